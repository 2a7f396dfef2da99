/**
 * Finding the end of a request head across reads, and the headers clock. A
 * connection whose head is partly in has one (heads that come in one read
 * share one: see `detach`); it keeps the scan's place between reads so a
 * head that trickles in byte by byte costs linear time, and knows since when
 * the head has been arriving (slowloris: `headersTimeoutMs`).
 *
 * @module
 */

import { findHeadEnd, HEAD_INCOMPLETE, type HeadLimits, type HeadScan, resetScan } from "./parser.ts";

export { HEAD_ERROR, HEAD_INCOMPLETE } from "./parser.ts";

/** The head being received on one connection. */
export class HeadReader implements HeadScan {
  // HeadScan, for findHeadEnd (see there).
  start = 0;
  pos = 0;
  lineStart = 0;
  pastRequestLine = false;
  error = 0;
  emptyLines = 0;
  /** A scan is under way: its place is kept across reads. */
  #scanning = false;
  /** When the current, incomplete head started arriving (ms), or 0. */
  startedAt = 0;
  /** When reading was paused (ms), or 0: the headers clock stops while the server does not read. */
  #pausedAt = 0;

  /**
   * Looks for the end of the head that begins at `buf[i]` (or that began in
   * an earlier read: then `buf` starts with the bytes kept from it). Returns
   * the index past its blank line, with the head at `buf[this.start..]`;
   * {@linkcode HEAD_INCOMPLETE}, when the caller keeps what {@linkcode keep}
   * returns; or `HEAD_ERROR`, with the code in `this.error`. `now` starts the
   * headers clock: any byte of a new head counts, empty lines included.
   */
  find(buf: Uint8Array, i: number, end: number, now: number, limits: HeadLimits): number {
    if (this.startedAt === 0) this.startedAt = now;
    if (!this.#scanning) {
      resetScan(this, i);
      this.#scanning = true;
    }
    const headEnd = findHeadEnd(buf, end, this, limits);
    if (headEnd === HEAD_INCOMPLETE) return HEAD_INCOMPLETE;
    // Found, or refused: either way the next head starts afresh.
    this.#scanning = false;
    this.startedAt = 0;
    return headEnd;
  }

  /**
   * After {@linkcode HEAD_INCOMPLETE}: the bytes of the partial head to keep
   * for the next read (null when only skipped empty lines came), with the
   * scan rebased onto them.
   */
  keep(buf: Uint8Array, end: number): Uint8Array | null {
    const start = this.start;
    this.pos -= start;
    this.lineStart -= start;
    this.start = 0;
    return start < end ? buf.subarray(start, end) : null;
  }

  /**
   * The connection stopped (or resumed) reading: time in which the server
   * refused to read (backpressure, the overload gate) is not the client's,
   * so the clock of a head in progress moves forward by it.
   */
  paused(paused: boolean, now: number): void {
    if (paused) this.#pausedAt = now;
    else if (this.#pausedAt !== 0) {
      if (this.startedAt !== 0) this.startedAt += now - this.#pausedAt;
      this.#pausedAt = 0;
    }
  }

  /** True while reading is paused (the clock is stopped). */
  get clockStopped(): boolean {
    return this.#pausedAt !== 0;
  }

  /**
   * A reader that carries on this one's incomplete scan and clock, this one
   * reset: a reader shared by many connections hands over the head that
   * one of them keeps across reads.
   */
  detach(): HeadReader {
    const r = new HeadReader();
    r.start = this.start;
    r.pos = this.pos;
    r.lineStart = this.lineStart;
    r.pastRequestLine = this.pastRequestLine;
    r.error = this.error;
    r.emptyLines = this.emptyLines;
    r.#scanning = this.#scanning;
    r.startedAt = this.startedAt;
    r.#pausedAt = this.#pausedAt;
    this.#scanning = false;
    this.startedAt = 0;
    this.#pausedAt = 0;
    return r;
  }
}
