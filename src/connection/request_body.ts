/**
 * A request body that did not arrive with its head: its framing
 * (Content-Length or chunked) and the slow-body clock. A connection holds
 * one only while such a body is arriving; a body that came whole in the same
 * read as its head, and a request without one, never make this object.
 *
 * @module
 */

import type { BodySource } from "../fetch/body.ts";
import { ChunkedDecoder } from "../http/chunked.ts";
import type { ResolvedOptions } from "../options.ts";
import type { Exchange } from "./exchange.ts";

/** At most this many bytes of an unread request body are drained to keep the connection. */
export const MAX_DRAIN_BYTES = 256 * 1024;

/** `RequestBody.feed`: the framing is broken; the code is in `error`. */
export const BODY_ERROR = -1;

/** One request body arriving over several reads. */
export class RequestBody {
  /** The exchange whose request this body belongs to. */
  readonly exchange: Exchange;
  readonly source: BodySource;
  /** Chunked framing; null for Content-Length. */
  readonly chunked: ChunkedDecoder | null;
  /** Content-Length bytes still to come (Content-Length framing). */
  remaining: number;
  /** True once the last byte of the body was fed. */
  complete = false;
  /** The error code once `feed` returned {@linkcode BODY_ERROR}. */
  error = 0;
  // The slow-body clock: bytes received against time spent willing to read.
  /** Bytes received since the body started (whole reads, as they come). */
  received: number;
  /** When the body started arriving (ms). */
  readonly startedAt: number;
  /** Time spent paused for backpressure while receiving (ms); excluded from the rate. */
  #pausedMs = 0;
  #pausedAt = 0;

  /** `length` is the Content-Length, or -1 for chunked; `alreadyHere` the bytes of this read after the head. */
  constructor(exchange: Exchange, length: number, options: ResolvedOptions, now: number, alreadyHere: number) {
    this.exchange = exchange;
    this.source = exchange.body!;
    this.chunked = length < 0 ? new ChunkedDecoder(options.maxBodyBytes, options.maxHeaderBytes) : null;
    this.remaining = length < 0 ? 0 : length;
    this.startedAt = now;
    this.received = alreadyHere;
  }

  /** Feeds body bytes from `buf[i..end)`; returns where the body stopped, or {@linkcode BODY_ERROR}. */
  feed(buf: Uint8Array, i: number, end: number): number {
    const source = this.source;
    const decoder = this.chunked;
    if (decoder === null) {
      const n = Math.min(this.remaining, end - i);
      source.push(buf.subarray(i, i + n));
      i += n;
      this.remaining -= n;
      if (this.remaining === 0) this.complete = true;
    } else {
      i = decoder.decode(buf, i, end, (b, s, e) => source.push(b.subarray(s, e)));
      if (i < 0) {
        this.error = decoder.error;
        return BODY_ERROR;
      }
      if (decoder.done) this.complete = true;
    }
    return i;
  }

  /** Too much may still come to read it through just to keep the connection (chunked: unknown). */
  get tooLongToDrain(): boolean {
    return this.chunked !== null || this.remaining > MAX_DRAIN_BYTES;
  }

  /** The connection stopped or resumed reading: time paused does not count against the client's rate. */
  paused(paused: boolean, now: number): void {
    if (paused) this.#pausedAt = now;
    else if (this.#pausedAt !== 0) {
      this.#pausedMs += now - this.#pausedAt;
      this.#pausedAt = 0;
    }
  }

  /**
   * Slow POST: the body takes longer than `requestTimeoutMs`, or arrives
   * slower than `minBodyBytesPerSecond` while we are willing to read it
   * (measured once it had `headersTimeoutMs` of reading time).
   */
  timedOut(now: number, o: ResolvedOptions): boolean {
    const elapsed = now - this.startedAt;
    let pausedMs = this.#pausedMs;
    if (this.#pausedAt !== 0) pausedMs += now - this.#pausedAt;
    const active = elapsed - pausedMs;
    const tooSlow = o.minBodyBytesPerSecond > 0 && active > o.headersTimeoutMs &&
      this.received < (o.minBodyBytesPerSecond * active) / 1000;
    return elapsed > o.requestTimeoutMs || tooSlow;
  }
}
