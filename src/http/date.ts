/**
 * The `Date` header line (RFC 9110 §6.6.1), formatted at most once a second
 * and kept as bytes so every response copies it instead of formatting it.
 *
 * @module
 */

import { latin1Bytes } from "./chars.ts";

let second = -1;
let line: Uint8Array = new Uint8Array(0);

/** `Date: <IMF-fixdate>\r\n` for the current second, as bytes. */
export function dateLine(): Uint8Array {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== second) {
    second = s;
    line = latin1Bytes(`Date: ${new Date(now).toUTCString()}\r\n`);
  }
  return line;
}
