/**
 * Incremental decoder for the chunked transfer coding (RFC 9112 §7.1):
 * chunk sizes, extensions (validated, then ignored), data and the trailer
 * section (validated, then discarded). Feeds data to a sink as views of the
 * input; never copies.
 *
 * @module
 */

import { CR, DQUOTE, FIELD_VALUE, HEX, HTAB, LF, SP, TOKEN } from "./chars.ts";
import { ErrorCode } from "./errors.ts";

const S = {
  SIZE_START: 0,
  SIZE: 1,
  EXT: 2, // after an extension value: BWS ";", or CR
  EXT_NAME_START: 3,
  EXT_NAME: 4,
  EXT_AFTER_NAME: 5,
  EXT_VALUE_START: 6,
  EXT_VALUE: 7,
  EXT_QUOTED: 8,
  EXT_QUOTED_ESCAPE: 9,
  SIZE_LF: 10,
  DATA: 11,
  DATA_CR: 12,
  DATA_LF: 13,
  TRAILER_START: 14,
  TRAILER_NAME: 15,
  TRAILER_VALUE: 16,
  TRAILER_LF: 17,
  END_LF: 18,
  DONE: 19,
  EXT_BWS: 20, // whitespace after the size or a value: only more BWS, then ";"
} as const;

/** Largest chunk-size we accept: beyond 2^53 numbers lose precision. */
const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER;
/** Hex digits in one chunk-size, leading zeros included (16 already exceed 2^53). */
const MAX_SIZE_DIGITS = 64;
/** Chunk extensions on one chunk, in bytes; nobody needs more. */
const MAX_EXTENSION_BYTES = 4096;

/** Receives decoded body bytes: `buf[start..end)`, valid to keep. */
export type ChunkSink = (buf: Uint8Array, start: number, end: number) => void;

/** One chunked body being decoded; make a new one (or `reset()`) per message. */
export class ChunkedDecoder {
  #state: number = S.SIZE_START;
  #remaining = 0;
  #extBytes = 0;
  #trailerBytes = 0;
  #bodyBytes = 0;
  #maxBodyBytes: number;
  #maxTrailerBytes: number;
  /** The error code once `decode` returned -1. */
  error = 0;

  constructor(maxBodyBytes: number, maxTrailerBytes: number) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** Starts over for a new message. */
  reset(maxBodyBytes: number): void {
    this.#state = S.SIZE_START;
    this.#remaining = 0;
    this.#extBytes = 0;
    this.#trailerBytes = 0;
    this.#bodyBytes = 0;
    this.#maxBodyBytes = maxBodyBytes;
    this.error = 0;
  }

  /** True once the last chunk and the trailer section are complete. */
  get done(): boolean {
    return this.#state === S.DONE;
  }

  /** Body bytes decoded so far. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /**
   * Decodes `buf[start..end)`, handing data to `sink`. Returns the index where
   * it stopped (`end`, or just past the message when it completed), or -1 on
   * error with {@linkcode ChunkedDecoder.error} set.
   */
  decode(buf: Uint8Array, start: number, end: number, sink: ChunkSink): number {
    let i = start;
    let state = this.#state;
    while (i < end) {
      if (state === S.DATA) {
        const n = Math.min(this.#remaining, end - i);
        sink(buf, i, i + n);
        i += n;
        this.#remaining -= n;
        if (this.#remaining === 0) state = S.DATA_CR;
        continue;
      }
      const b = buf[i++];
      switch (state) {
        case S.SIZE_START:
        case S.SIZE: {
          const h = HEX[b];
          if (h >= 0) {
            // Leading zeros do not change the value but still cost bytes:
            // a size line of endless zeros is refused, not read forever.
            if (++this.#extBytes > MAX_SIZE_DIGITS) return this.#fail(ErrorCode.INVALID_CHUNK_SIZE);
            const size = this.#remaining * 16 + h;
            if (size > MAX_CHUNK_SIZE) return this.#fail(ErrorCode.INVALID_CHUNK_SIZE);
            this.#remaining = size;
            state = S.SIZE;
          } else if (state === S.SIZE_START) {
            return this.#fail(ErrorCode.INVALID_CHUNK_SIZE);
          } else if (b === CR) {
            state = S.SIZE_LF;
          } else if (b === 0x3b /* ; */) {
            state = S.EXT_NAME_START;
          } else if (b === SP || b === HTAB) {
            // BWS is only allowed before a ";" (RFC 9112 §7.1.1): "5 \r\n"
            // is not a chunk-size line.
            state = S.EXT_BWS;
          } else {
            return this.#fail(ErrorCode.INVALID_CHUNK_SIZE);
          }
          if (state === S.SIZE_LF || state === S.SIZE) break;
          this.#extBytes = 1;
          break;
        }
        case S.SIZE_LF:
          if (b !== LF) return this.#fail(ErrorCode.INVALID_CHUNK_SIZE);
          if (this.#remaining === 0) {
            state = S.TRAILER_START;
          } else {
            this.#bodyBytes += this.#remaining;
            if (this.#bodyBytes > this.#maxBodyBytes) return this.#fail(ErrorCode.BODY_TOO_LARGE);
            state = S.DATA;
          }
          break;
        case S.DATA_CR:
          if (b !== CR) return this.#fail(ErrorCode.INVALID_CHUNK_DATA);
          state = S.DATA_LF;
          break;
        case S.DATA_LF:
          if (b !== LF) return this.#fail(ErrorCode.INVALID_CHUNK_DATA);
          state = S.SIZE_START;
          this.#extBytes = 0;
          break;
        case S.TRAILER_START:
          if (b === CR) state = S.END_LF;
          else if (TOKEN[b] === 1) state = S.TRAILER_NAME;
          else return this.#fail(ErrorCode.INVALID_TRAILER);
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(ErrorCode.HEADERS_TOO_LARGE);
          break;
        case S.TRAILER_NAME:
          if (b === 0x3a /* : */) state = S.TRAILER_VALUE;
          else if (TOKEN[b] !== 1) return this.#fail(ErrorCode.INVALID_TRAILER);
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(ErrorCode.HEADERS_TOO_LARGE);
          break;
        case S.TRAILER_VALUE:
          if (b === CR) state = S.TRAILER_LF;
          else if (FIELD_VALUE[b] !== 1) return this.#fail(ErrorCode.INVALID_TRAILER);
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(ErrorCode.HEADERS_TOO_LARGE);
          break;
        case S.TRAILER_LF:
          if (b !== LF) return this.#fail(ErrorCode.INVALID_TRAILER);
          state = S.TRAILER_START;
          break;
        case S.END_LF:
          if (b !== LF) return this.#fail(ErrorCode.INVALID_TRAILER);
          this.#state = S.DONE;
          return i;
        default: {
          // Chunk extensions: *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] )
          if (++this.#extBytes > MAX_EXTENSION_BYTES) return this.#fail(ErrorCode.INVALID_CHUNK_EXTENSION);
          const next = extension(state, b);
          if (next < 0) return this.#fail(ErrorCode.INVALID_CHUNK_EXTENSION);
          state = next;
        }
      }
    }
    this.#state = state;
    return i;
  }

  #fail(code: number): number {
    this.error = code;
    return -1;
  }
}

/** One step of the chunk-extension grammar; -1 on a byte it does not allow. */
function extension(state: number, b: number): number {
  const ws = b === SP || b === HTAB;
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
  // (RFC 9112 §7.1.1): whitespace may precede ";" and surround "=", but
  // never ends the line.
  switch (state) {
    case S.EXT:
      if (ws) return S.EXT_BWS;
      if (b === 0x3b) return S.EXT_NAME_START;
      if (b === CR) return S.SIZE_LF;
      return -1;
    case S.EXT_BWS:
      if (ws) return S.EXT_BWS;
      if (b === 0x3b) return S.EXT_NAME_START;
      return -1;
    case S.EXT_NAME_START:
      if (ws) return S.EXT_NAME_START;
      return TOKEN[b] === 1 ? S.EXT_NAME : -1;
    case S.EXT_NAME:
      if (TOKEN[b] === 1) return S.EXT_NAME;
      if (ws) return S.EXT_AFTER_NAME;
      if (b === 0x3d /* = */) return S.EXT_VALUE_START;
      if (b === 0x3b) return S.EXT_NAME_START;
      if (b === CR) return S.SIZE_LF;
      return -1;
    case S.EXT_AFTER_NAME:
      if (ws) return S.EXT_AFTER_NAME;
      if (b === 0x3d) return S.EXT_VALUE_START;
      if (b === 0x3b) return S.EXT_NAME_START;
      return -1;
    case S.EXT_VALUE_START:
      if (ws) return S.EXT_VALUE_START;
      if (b === DQUOTE) return S.EXT_QUOTED;
      return TOKEN[b] === 1 ? S.EXT_VALUE : -1;
    case S.EXT_VALUE:
      if (TOKEN[b] === 1) return S.EXT_VALUE;
      if (ws) return S.EXT_BWS;
      if (b === 0x3b) return S.EXT_NAME_START;
      if (b === CR) return S.SIZE_LF;
      return -1;
    case S.EXT_QUOTED:
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
      if (b === DQUOTE) return S.EXT;
      if (b === 0x5c /* \ */) return S.EXT_QUOTED_ESCAPE;
      return ws || (b >= 0x21 && b !== 0x7f) ? S.EXT_QUOTED : -1;
    case S.EXT_QUOTED_ESCAPE:
      return ws || (b >= 0x21 && b !== 0x7f) ? S.EXT_QUOTED : -1;
  }
  return -1;
}
