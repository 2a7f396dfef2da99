/**
 * Output assembly: one growable scratch buffer that responses of a turn are
 * serialized into, then handed to the socket as a single write (the "cork"
 * of uWS). JavaScript is single-threaded and a flush runs start to end
 * without awaiting, so one module-level scratch serves every connection.
 *
 * @module
 */

import { REASON } from "./errors.ts";

const INITIAL_BYTES = 64 * 1024;

/** A byte builder; `take()` copies out what was written and starts over. */
export class OutBuffer {
  buf: Uint8Array = new Uint8Array(INITIAL_BYTES);
  length = 0;

  #grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.length + need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Appends a string whose code units are all below 256, one byte each. */
  latin1(s: string): void {
    const n = s.length;
    if (this.length + n > this.buf.length) this.#grow(n);
    const buf = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.length = p;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.length + n > this.buf.length) this.#grow(n);
    this.buf.set(b, this.length);
    this.length += n;
  }

  /** Appends `\r\n`. */
  crlf(): void {
    if (this.length + 2 > this.buf.length) this.#grow(2);
    this.buf[this.length++] = 0x0d;
    this.buf[this.length++] = 0x0a;
  }

  /** A copy of what was appended (the caller owns it); resets the builder. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    // Do not keep a buffer grown by one huge response around forever.
    if (this.buf.length > 4 * INITIAL_BYTES) this.buf = new Uint8Array(INITIAL_BYTES);
    return out;
  }
}

/** The scratch every connection serializes into during a flush. */
export const scratch: OutBuffer = new OutBuffer();

const STATUS_LINES: string[] = [];

/** `HTTP/1.1 <status> <reason>\r\n`, cached per status code. */
export function statusLine(status: number, statusText: string): string {
  if (statusText !== "" && statusText !== REASON[status]) {
    return `HTTP/1.1 ${status} ${statusText.replace(/[\r\n]/g, "")}\r\n`;
  }
  return (STATUS_LINES[status] ??= `HTTP/1.1 ${status} ${REASON[status] ?? ""}\r\n`);
}

const hexCache: string[] = [];

/** The chunk-size line for a chunk of `n` bytes: `<hex>\r\n`. */
export function chunkHeader(n: number): string {
  if (n < 4096) return (hexCache[n] ??= n.toString(16) + "\r\n");
  return n.toString(16) + "\r\n";
}
