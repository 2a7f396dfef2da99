/**
 * Output assembly: responses of a turn are serialized into one buffer and
 * handed to the socket as a single write (the "cork" of uWS).
 *
 * The buffer is a slab, as Node's `Buffer.allocUnsafe` pool is: `take()`
 * hands out a view of the bytes just written and moves on, and a fresh slab
 * is started when this one runs low. Bytes handed out are never written
 * again, so a socket may keep its view as long as it likes, and no write
 * pays for an allocation of its own (a `slice()` per write cost 10% of the
 * request path in `bench/core_bench.ts`). JavaScript is single-threaded and
 * a flush runs start to end without awaiting, so one module-level builder
 * serves every connection.
 *
 * @module
 */

import { isReasonPhrase, latin1Bytes } from "./chars.ts";
import { type ErrorResponse, REASON } from "./errors.ts";

const SLAB_BYTES = 64 * 1024;
/** Pieces up to this long are copied by a loop, longer ones by `set()` (see `bytes`). */
const COPY_LOOP_BYTES = 16;
/** Start a new slab rather than begin a message in less room than this. */
const MIN_ROOM_BYTES = 4 * 1024;

/** A byte builder; `take()` returns what was appended since the last take. */
export class OutBuffer {
  #buf: Uint8Array = new Uint8Array(SLAB_BYTES);
  #start = 0;
  #pos = 0;

  /** Bytes appended since the last `take()`. */
  get length(): number {
    return this.#pos - this.#start;
  }

  /** Moves the message being built to a slab with room for `need` more bytes. */
  #grow(need: number): void {
    const used = this.#pos - this.#start;
    const size = Math.max(SLAB_BYTES, (used + need) * 2);
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(this.#start, this.#pos));
    this.#buf = next;
    this.#start = 0;
    this.#pos = used;
  }

  /** Appends a string whose code units are all below 256, one byte each. */
  latin1(s: string): void {
    const n = s.length;
    if (this.#pos + n > this.#buf.length) this.#grow(n);
    const buf = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.#pos = p;
  }

  /** Drops what was appended after the first `length` bytes since the last `take()`. */
  truncate(length: number): void {
    this.#pos = this.#start + length;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.#pos + n > this.#buf.length) this.#grow(n);
    const buf = this.#buf;
    let p = this.#pos;
    // A loop beats TypedArray#set's fixed cost (about 12 ns) only for short
    // pieces: up to about 13 bytes on V8 and 26 on JavaScriptCore (Deno 2.9,
    // Node 24, Bun 1.4; a loop costs 0.75 ns a byte on V8, 0.5 on
    // JavaScriptCore). Counted per keep-alive request (bench/probes/instr.sh):
    // 64 -> 16, here and in Deno's read copy, saves Deno 1,500 of 24,600
    // instructions (24 here: 1,200); Bun's count does not move between 16,
    // 24 and 64.
    if (n <= COPY_LOOP_BYTES) for (let i = 0; i < n; i++) buf[p++] = b[i];
    else {
      buf.set(b, p);
      p += n;
    }
    this.#pos = p;
  }

  /** Appends `\r\n`. */
  crlf(): void {
    if (this.#pos + 2 > this.#buf.length) this.#grow(2);
    this.#buf[this.#pos++] = 0x0d;
    this.#buf[this.#pos++] = 0x0a;
  }

  /**
   * Hands back the view the last `take()` returned, once nothing holds it
   * any more (a socket that copied it): the next message is built in the
   * same bytes. Does nothing for any other view, or once more was appended.
   * Steady keep-alive traffic then stays in the start of one slab instead
   * of moving through a fresh 64 KiB one every few hundred responses, which
   * were garbage for the collector to find.
   */
  giveBack(view: Uint8Array): void {
    const buf = this.#buf;
    if (view.buffer !== buf.buffer || this.#pos !== this.#start) return;
    const start = view.byteOffset - buf.byteOffset;
    if (start + view.length !== this.#start) return;
    this.#start = this.#pos = start;
  }

  /** What was appended since the last take, as a view the caller may keep. */
  take(): Uint8Array {
    // A view built from the buffer directly: subarray() pays a species lookup.
    const out = new Uint8Array(this.#buf.buffer, this.#buf.byteOffset + this.#start, this.#pos - this.#start);
    this.#start = this.#pos;
    if (this.#buf.length - this.#pos < MIN_ROOM_BYTES) {
      this.#buf = new Uint8Array(SLAB_BYTES);
      this.#start = this.#pos = 0;
    }
    return out;
  }
}

/** The builder every connection serializes into during a flush. */
export const scratch: OutBuffer = new OutBuffer();

const STATUS_LINES: Uint8Array[] = [];

/**
 * Appends `HTTP/1.1 <status> <reason>\r\n`, the standard ones from bytes
 * made once per status code. A reason phrase with a character that is not a
 * reason-phrase byte (Bun's `Response` takes any `statusText`, and only the
 * low byte of each character would be written) is replaced by the standard
 * one. Appends nothing and returns false for a status that is not three
 * digits (a duck-typed response's): the response is invalid.
 */
export function writeStatusLine(out: OutBuffer, status: number, statusText: string): boolean {
  if (!(status >= 100 && status <= 999 && status % 1 === 0)) return false;
  if (statusText !== "" && statusText !== REASON[status] && isReasonPhrase(statusText)) {
    out.latin1(`HTTP/1.1 ${status} ${statusText}\r\n`);
  } else {
    let line = STATUS_LINES[status];
    if (line === undefined) STATUS_LINES[status] = line = latin1Bytes(`HTTP/1.1 ${status} ${REASON[status] ?? ""}\r\n`);
    out.bytes(line);
  }
  return true;
}

const INVALID_BODY = "Internal Server Error: the response had an invalid status or header field\n";

/**
 * The 500 that replaces a response whose status line or a field would not
 * be valid on the wire (a value with CR or LF, say), as node:http's
 * `ERR_INVALID_CHAR` becomes a 500. The request's framing is intact, so the
 * connection stays open.
 */
export const INVALID_RESPONSE: ErrorResponse = {
  status: 500,
  head: new TextEncoder().encode("HTTP/1.1 500 Internal Server Error\r\n"),
  tail: new TextEncoder().encode(
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${INVALID_BODY.length}\r\n\r\n${INVALID_BODY}`,
  ),
  keepsConnection: true,
};

const hexCache: string[] = [];

/** The chunk-size line for a chunk of `n` bytes: `<hex>\r\n`. */
export function chunkHeader(n: number): string {
  if (n < 4096) return (hexCache[n] ??= n.toString(16) + "\r\n");
  return n.toString(16) + "\r\n";
}
