/**
 * The Bun fast path for implied body types: `transport.impliedType`.
 *
 * Bun's Response does not list the type its body implies for a string
 * (`new Response("text")`, Hono's `c.text()`), while `Bun.serve` sends
 * `text/plain;charset=utf-8` for it. (A URLSearchParams, FormData or typed
 * Blob body is listed in `headers`, read before the body: the core does.)
 *
 * @module
 */

import { lightBodyKind } from "../../src/fetch/light.ts";

/** What Bun's own Response reports as the type of such a body (`(await res.blob()).type`, Bun 1.4.5). */
const TEXT = "text/plain;charset=utf-8";

/**
 * `transport.impliedType`: called with the body just locked by
 * `getReader()`. Bun then reads `bodyUsed` true for a body it holds itself
 * (a string, bytes, a Blob, another Response's body) and false for a
 * JavaScript stream (the spec's answer until the first read), so a stream
 * gets no type, as from `Bun.serve`. A held body cannot be told apart from
 * bytes here: `Bun.serve` sends `application/octet-stream` for bytes and
 * for another Response's body, `text/plain;charset=utf-8` for a string;
 * this sends what Bun's Response reports for all of them. The core sends
 * it only where the response's fields name no `Content-Type`. Called too,
 * before its body is taken, for a light Response written from its fixed body.
 */
export function impliedType(response: Response): string | null {
  // A light Response (`lightweightGlobals`) says what its body was made
  // from, so it gets exactly what Bun.serve sends.
  const kind = lightBodyKind(response);
  if (kind === "text") return TEXT;
  if (kind === "bytes") return "application/octet-stream";
  return response.bodyUsed ? TEXT : null;
}
