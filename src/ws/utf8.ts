/**
 * Incremental UTF-8 validation (RFC 3629), for WebSocket text messages and
 * close reasons (RFC 6455 §8.1): bytes may arrive split anywhere, and an
 * invalid sequence is reported at the byte that makes it invalid, so a bad
 * first fragment fails the connection before the message ends.
 *
 * The state is the number of continuation bytes still expected and the
 * range the next one must fall in; the narrowed ranges after E0, ED, F0 and
 * F4 are what reject overlong forms, UTF-16 surrogates and code points above
 * U+10FFFF (RFC 3629 §4, the table of well-formed byte sequences).
 *
 * @module
 */

/** A validator that keeps its state between {@linkcode Utf8Validator.update} calls. */
export class Utf8Validator {
  /** Continuation bytes still expected. */
  #need = 0;
  /** Inclusive bounds of the next continuation byte. */
  #lo = 0x80;
  #hi = 0xbf;

  /** True when no multi-byte sequence is open: the text so far is complete. */
  get complete(): boolean {
    return this.#need === 0;
  }

  /** Forgets any open sequence (start of a new message). */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /** Validates `b[start, end)`; false at the first byte that cannot be UTF-8. */
  update(b: Uint8Array, start: number, end: number): boolean {
    let need = this.#need;
    let lo = this.#lo;
    let hi = this.#hi;
    let i = start;
    while (i < end) {
      const c = b[i++];
      if (need === 0) {
        if (c < 0x80) {
          // ASCII runs are the common case: skip them without the state.
          while (i < end && b[i] < 0x80) i++;
          continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
          need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
          need = 2;
          if (c === 0xe0) lo = 0xa0; // overlong below U+0800
          else if (c === 0xed) hi = 0x9f; // surrogates U+D800..U+DFFF
        } else if (c >= 0xf0 && c <= 0xf4) {
          need = 3;
          if (c === 0xf0) lo = 0x90; // overlong below U+10000
          else if (c === 0xf4) hi = 0x8f; // above U+10FFFF
        } else {
          return this.#fail(); // 80..C1 (stray continuation, overlong 2-byte), F5..FF
        }
      } else {
        if (c < lo || c > hi) return this.#fail();
        need--;
        lo = 0x80;
        hi = 0xbf;
      }
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }

  #fail(): false {
    this.reset();
    return false;
  }
}

const oneShot = new Utf8Validator();

/** True when `b` (or `b[start, end)`) is complete, well-formed UTF-8. */
export function isValidUtf8(b: Uint8Array, start = 0, end = b.length): boolean {
  oneShot.reset();
  return oneShot.update(b, start, end) && oneShot.complete;
}
