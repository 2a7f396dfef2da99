/**
 * permessage-deflate (RFC 7692) for the WebSocket core, on `node:zlib`'s
 * one-shot synchronous functions, which Node, Deno and Bun all provide.
 *
 * No zlib stream is kept between messages. Context takeover is carried
 * instead by the last window of plaintext in each direction (at most
 * 2^window_bits bytes, 32 KiB at 15): the compressor gets it as its preset
 * dictionary, so a message may refer back into earlier ones, and the
 * decompressor gets it as a stored DEFLATE block (RFC 1951 §3.2.4) put in
 * front of the message, whose output is then cut off. (Deno's
 * `inflateRawSync` ignores `dictionary`, and the stored block works on all
 * three runtimes; Deno's `deflateRawSync` ignores it too, which only costs
 * compression: its output never refers back, which any peer accepts.)
 * Memory per connection between messages is therefore those two windows,
 * at most 64 KiB, against the ~300 KiB a pair of live zlib streams holds
 * at the default window and memLevel (zlib's zconf.h memory formula:
 * deflate 2^(windowBits+2) + 2^(memLevel+9), inflate 2^windowBits + ~7 KiB).
 *
 * The inflated size limit is `maxOutputLength`: zlib stops as soon as the
 * output passes it, so a small "zip bomb" never expands in memory.
 *
 * @module
 */

import { zlib } from "./builtins.ts";
import type { DeflateCodec, DeflateCodecFactory } from "../../src/ws/codec.ts";
import type { DeflateParams } from "../../src/ws/handshake.ts";

/** Compression settings (zlib's). */
export interface NodeDeflateOptions {
  /** zlib level 0..9; default 1 (zlib's fastest: WebSocket messages are small and latency-bound). */
  level?: number;
  /** zlib memLevel 1..9; default 8 (zlib's default). */
  memLevel?: number;
}

const EMPTY = new Uint8Array(0);
/** Received messages end in this tail, stripped by the sender (RFC 7692 §7.2.2). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The codec factory for the WebSocket session's `deflate` option. */
export function nodeDeflate(options: NodeDeflateOptions = {}): DeflateCodecFactory {
  const level = options.level ?? 1;
  const memLevel = options.memLevel ?? 8;
  return (params) => new NodeDeflateCodec(params, level, memLevel);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The last `w` bytes of `prev` followed by `data`, copied. */
function window(prev: Uint8Array | null, data: Uint8Array, w: number): Uint8Array {
  if (data.length >= w) return data.slice(data.length - w);
  const keep = Math.min(prev === null ? 0 : prev.length, w - data.length);
  const out = new Uint8Array(keep + data.length);
  if (keep > 0) out.set(prev!.subarray(prev!.length - keep));
  out.set(data, keep);
  return out;
}

class NodeDeflateCodec implements DeflateCodec {
  #p: DeflateParams;
  #level: number;
  #memLevel: number;
  /** Plaintext window of what was sent / received, for context takeover. */
  #sent: Uint8Array | null = null;
  #received: Uint8Array | null = null;
  #outParts: Uint8Array[] | null = null;
  #inParts: Uint8Array[] | null = null;

  constructor(params: DeflateParams, level: number, memLevel: number) {
    this.#p = params;
    this.#level = level;
    this.#memLevel = memLevel;
  }

  deflate(data: Uint8Array, fin: boolean): Uint8Array {
    if (!fin || this.#outParts !== null) {
      // Whole messages only: parts wait for the last one (an empty fragment is valid on the wire).
      (this.#outParts ??= []).push(data.slice());
      if (!fin) return EMPTY;
      data = concat(this.#outParts);
      this.#outParts = null;
    }
    const bits = this.#p.serverMaxWindowBits;
    const { constants, deflateRawSync } = zlib();
    const z = deflateRawSync(data, {
      finishFlush: constants.Z_SYNC_FLUSH,
      windowBits: bits,
      level: this.#level,
      memLevel: this.#memLevel,
      dictionary: this.#sent ?? undefined,
    });
    if (!this.#p.serverNoContextTakeover) this.#sent = window(this.#sent, data, 1 << bits);
    // A sync flush ends with 00 00 ff ff (§7.2.1): strip it.
    return new Uint8Array(z.buffer, z.byteOffset, z.length - 4);
  }

  inflate(data: Uint8Array, fin: boolean, limit: number): Uint8Array | null {
    if (!fin || this.#inParts !== null) {
      (this.#inParts ??= []).push(data);
      if (!fin) return EMPTY;
      data = concat(this.#inParts);
      this.#inParts = null;
    }
    const dict = this.#p.clientNoContextTakeover ? null : this.#received;
    const d = dict === null ? 0 : dict.length;
    // [stored block holding the window] [the message] [00 00 ff ff]
    const input = new Uint8Array((d > 0 ? 5 + d : 0) + data.length + 4);
    let o = 0;
    if (d > 0) {
      input[0] = 0x00; // BFINAL 0, BTYPE 00 (stored); the rest of the byte is padding
      input[1] = d & 0xff;
      input[2] = d >>> 8;
      input[3] = ~d & 0xff;
      input[4] = (~d >>> 8) & 0xff;
      input.set(dict!, 5);
      o = 5 + d;
    }
    input.set(data, o);
    input.set(TAIL, o + data.length);
    let z: Uint8Array;
    try {
      const { constants, inflateRawSync } = zlib();
      z = inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, limit + d) });
    } catch (e) {
      if (e instanceof RangeError || (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return null;
      throw e;
    }
    if (z.length - d > limit) return null;
    const out = new Uint8Array(z.buffer, z.byteOffset + d, z.length - d);
    if (!this.#p.clientNoContextTakeover) this.#received = window(this.#received, out, 1 << this.#p.clientMaxWindowBits);
    return out;
  }

  reset(): void {
    this.#sent = this.#received = null;
    this.#outParts = this.#inParts = null;
  }

  close(): void {
    this.reset();
  }
}
