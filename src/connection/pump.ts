/**
 * Streaming a response body that was still producing when its head went
 * out: one chunk at a time, framed by the one chunk rule of
 * `serialize.ts`, waiting for the socket to drain between chunks.
 *
 * @module
 */

import { scratch } from "../http/writer.ts";
import type { Exchange } from "./exchange.ts";
import { toBytes } from "./response.ts";
import { frameChunk, isChunked, LAST_CHUNK } from "./serialize.ts";

/** A streamed chunk up to this size is copied behind its chunk header (one write); a larger one goes out as it is, uncopied. */
const COPY_CHUNK_BYTES = 16 * 1024;
const CRLF = new Uint8Array([0x0d, 0x0a]);

/** What the pump needs from the connection. */
export interface PumpTarget {
  /** The socket is gone. */
  readonly closed: boolean;
  /** The last write was not taken at once: wait for `drained()`. */
  readonly writeBlocked: boolean;
  /** Writes bytes to the socket. */
  send(bytes: Uint8Array): void;
  /** Resolves on the next drain (or close). */
  drained(): Promise<void>;
  /** The body is over: `complete` false when its framing could not be finished (the stream failed, or its length was wrong). */
  streamEnded(ex: Exchange, complete: boolean): void;
}

/** Streams the rest of a STREAMING exchange's body, honouring backpressure. */
export async function pump(ex: Exchange, target: PumpTarget): Promise<void> {
  const reader = ex.reader!;
  const isHead = ex.head.method === "HEAD";
  const chunked = isChunked(ex);
  let sent = 0;
  let ok = true;
  try {
    if (isHead) {
      await reader.cancel();
    } else {
      let read = ex.nextRead!;
      ex.nextRead = null;
      while (true) {
        const r = await read;
        if (target.closed) return;
        if (r.done) break;
        const c = toBytes(r.value);
        if (c.length > 0) {
          sent += c.length;
          const out = scratch;
          // Raw bytes are never copied; a large chunk goes out after its header.
          const rest = frameChunk(out, c, chunked, chunked ? COPY_CHUNK_BYTES : 0);
          if (out.length > 0) target.send(out.take());
          if (rest !== null) {
            target.send(rest);
            if (chunked) target.send(CRLF);
          }
        }
        if (target.writeBlocked) await target.drained();
        if (target.closed) {
          reader.cancel().catch(() => {});
          return;
        }
        read = reader.read();
      }
      if (chunked) target.send(LAST_CHUNK);
    }
  } catch {
    ok = false;
  }
  if (target.closed) return;
  target.streamEnded(ex, ok && (ex.fixedLength < 0 || isHead || ex.chunkBytes + sent === ex.fixedLength));
}
