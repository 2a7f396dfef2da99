/**
 * WebSocket framing (RFC 6455 §5): an incremental, byte-level parser for
 * the frames a client sends, and a writer for the server's frames.
 *
 * The parser keeps no per-frame closure or promise: a frame's state is a
 * handful of fields, frames may be split at any byte and many may arrive in
 * one `push()`. Payloads are unmasked in place (the socket hands over the
 * memory of each read), and a message that arrives whole in one read is
 * delivered as a view of that read, without a copy. Failures name the close
 * code the connection is to be failed with (§7.4.1): 1002 for protocol
 * errors, 1007 for invalid UTF-8 in a text message or a close reason, 1009
 * for a message over the size limit.
 *
 * @module
 */

import type { OutBuffer } from "../http/writer.ts";
import { isValidUtf8, Utf8Validator } from "./utf8.ts";

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** What the parser reports. Every callback receives memory it may keep. */
export interface FrameHandler {
  /** A complete data message; `compressed` when RSV1 was set (permessage-deflate). */
  onMessage(binary: boolean, payload: Uint8Array, compressed: boolean): void;
  onPing(payload: Uint8Array): void;
  onPong(payload: Uint8Array): void;
  /** A close frame: `code` 1005 when it had no payload. The parser stops after it. */
  onClose(code: number, reason: string): void;
  /** The connection is to be failed with `code`; the parser stops. */
  onError(code: number, reason: string): void;
}

/** Parser settings. */
export interface FrameParserOptions {
  /** Largest message payload (all fragments together) accepted; more fails with 1009. */
  maxMessageBytes: number;
  /** permessage-deflate was negotiated: RSV1 is allowed on a message's first frame. */
  deflate?: boolean;
  /** Refuse unmasked frames (a server must, RFC 6455 §5.1). Default true. */
  requireMask?: boolean;
}

/**
 * Close codes a peer may send (RFC 6455 §7.4.1, §7.4.2, and the IANA
 * registry's 1012..1014): 1004 is reserved, 1005, 1006 and 1015 must never
 * be on the wire, and 1016..2999 are unassigned.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs `b[i, end)` with the masking key `m` (big-endian in an int) starting
 * at key byte `p`; returns the key position after. Runs of 64 bytes and
 * more go a 32-bit word at a time.
 */
function unmask(b: Uint8Array, i: number, end: number, m: number, p: number): number {
  if (end - i >= 64 && LITTLE_ENDIAN) {
    while (((b.byteOffset + i) & 3) !== 0) {
      b[i++] ^= (m >>> (24 - (p << 3))) & 0xff;
      p = (p + 1) & 3;
    }
    const words = (end - i) >>> 2;
    // The key rotated to start at byte p, then in little-endian order.
    const r = p === 0 ? m : (m << (p << 3)) | (m >>> (32 - (p << 3)));
    const k = ((r >>> 24) & 0xff) | ((r >>> 8) & 0xff00) | ((r << 8) & 0xff0000) | (r << 24);
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let q = 0; q < words; q++) w[q] ^= k;
    i += words << 2;
  }
  while (i < end) {
    b[i++] ^= (m >>> (24 - (p << 3))) & 0xff;
    p = (p + 1) & 3;
  }
  return p;
}

/** Header size (2..14 bytes) given its second byte. */
function headSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + ((b1 & 0x80) !== 0 ? 4 : 0) + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
}

/** Incremental parser of client frames. */
export class FrameParser {
  #h: FrameHandler;
  #max: number;
  #deflate: boolean;
  #requireMask: boolean;

  // A header split across reads is gathered here (allocated the first time one is).
  #hb: Uint8Array | null = null;
  #hlen = 0;
  #hneed = 2;

  // The frame being read.
  #inPayload = false;
  #opcode = 0;
  #fin = false;
  #frameLen = 0;
  #remaining = 0;
  #masked = false;
  /** The masking key, big-endian in one int (no array per connection). */
  #mask = 0;
  #maskPos = 0;
  #ctrl: Uint8Array = EMPTY;
  #ctrlLen = 0;

  // The data message being read (opcode 0: none).
  #msgOp = 0;
  #compressed = false;
  #msgLen = 0;
  #msgBuf: Uint8Array | null = null;
  #direct: Uint8Array | null = null;
  #validate = false;
  #utf8 = new Utf8Validator();

  #stopped = false;
  #paused = false;
  #pending: Uint8Array | null = null;

  constructor(handler: FrameHandler, options: FrameParserOptions) {
    this.#h = handler;
    this.#max = options.maxMessageBytes;
    this.#deflate = options.deflate === true;
    this.#requireMask = options.requireMask !== false;
  }

  /** True after a close frame or an error: later bytes are ignored. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** True while paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops parsing: later bytes are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#pending = null;
  }

  /**
   * Stops delivering messages after the current one: bytes already received
   * and bytes pushed meanwhile wait for {@linkcode resume}. Meant to be called
   * from `onMessage`.
   */
  pause(): void {
    this.#paused = true;
  }

  /** Parses what waited while paused, then goes on with later pushes. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const p = this.#pending;
    this.#pending = null;
    if (p !== null && !this.#stopped) this.#run(p, 0);
  }

  /** Feeds received bytes (the memory is unmasked in place). */
  push(chunk: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#paused) {
      const p = this.#pending;
      if (p === null) this.#pending = chunk;
      else {
        const joined = new Uint8Array(p.length + chunk.length);
        joined.set(p);
        joined.set(chunk, p.length);
        this.#pending = joined;
      }
      return;
    }
    this.#run(chunk, 0);
  }

  #run(chunk: Uint8Array, i: number): void {
    const n = chunk.length;
    while (i < n) {
      if (!this.#inPayload) {
        let src = chunk;
        let at = i;
        let need = 0;
        if (this.#hlen === 0 && n - i >= 2 && n - i >= (need = headSize(chunk[i + 1]))) {
          i += need;
        } else {
          const hb = (this.#hb ??= new Uint8Array(14));
          while (i < n && this.#hlen < this.#hneed) {
            hb[this.#hlen++] = chunk[i++];
            if (this.#hlen === 2) this.#hneed = headSize(hb[1]);
          }
          if (this.#hlen < this.#hneed) return;
          src = hb;
          at = 0;
          this.#hlen = 0;
          this.#hneed = 2;
        }
        if (!this.#header(src, at)) return;
        if (this.#remaining === 0) {
          this.#frameEnd();
          if (this.#stopped) return;
          if (this.#paused) {
            if (i < n) this.#pending = chunk.subarray(i);
            return;
          }
        }
        continue;
      }
      const rem = this.#remaining;
      const take = rem < n - i ? rem : n - i;
      const end = i + take;
      if (this.#masked) this.#maskPos = unmask(chunk, i, end, this.#mask, this.#maskPos);
      if (this.#opcode >= 8) {
        this.#ctrl.set(chunk.subarray(i, end), this.#ctrlLen);
        this.#ctrlLen += take;
      } else {
        if (this.#validate && !this.#utf8.update(chunk, i, end)) {
          this.#fail(1007, "invalid UTF-8 in a text message");
          return;
        }
        if (this.#fin && this.#msgLen === 0 && this.#msgBuf === null && take === this.#frameLen) {
          this.#direct = chunk.subarray(i, end);
        } else {
          this.#append(chunk, i, end);
        }
        this.#msgLen += take;
      }
      i = end;
      this.#remaining = rem - take;
      if (this.#remaining === 0) {
        this.#frameEnd();
        if (this.#stopped) return;
        if (this.#paused) {
          if (i < n) this.#pending = chunk.subarray(i);
          return;
        }
      }
    }
  }

  #append(chunk: Uint8Array, start: number, end: number): void {
    const len = this.#msgLen;
    const add = end - start;
    let buf = this.#msgBuf;
    if (buf === null || len + add > buf.length) {
      // The first frame of a message sizes the buffer exactly (a single frame
      // split across reads needs no more); later fragments double it.
      const want = buf === null ? (this.#fin ? this.#frameLen : Math.max(this.#frameLen, 1024)) : Math.max(buf.length * 2, len + add);
      const next = new Uint8Array(Math.min(Math.max(want, len + add), this.#max));
      if (buf !== null) next.set(buf.subarray(0, len));
      this.#msgBuf = buf = next;
    }
    buf.set(chunk.subarray(start, end), len);
  }

  /** Reads a complete header at `src[at]`; false when the frame fails the connection. */
  #header(src: Uint8Array, at: number): boolean {
    const b0 = src[at];
    const b1 = src[at + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const op = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    if (!masked && this.#requireMask) return this.#fail(1002, "client frame not masked");
    let p = at + 2;
    let len = len7;
    if (len7 === 126) {
      len = (src[p] << 8) | src[p + 1];
      p += 2;
    } else if (len7 === 127) {
      const hi = ((src[p] << 24) | (src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3]) >>> 0;
      if (hi >= 0x80000000) return this.#fail(1002, "64-bit length with the most significant bit set");
      const lo = ((src[p + 4] << 24) | (src[p + 5] << 16) | (src[p + 6] << 8) | src[p + 7]) >>> 0;
      len = hi * 0x100000000 + lo;
      p += 8;
    }
    if (op >= 8) {
      if (op > OP_PONG) return this.#fail(1002, "unknown opcode");
      if (!fin) return this.#fail(1002, "fragmented control frame");
      if (len7 > 125) return this.#fail(1002, "control frame over 125 bytes");
      if (rsv !== 0) return this.#fail(1002, "reserved bits set");
      this.#ctrl = len === 0 ? EMPTY : new Uint8Array(len);
      this.#ctrlLen = 0;
    } else {
      if (op === OP_CONTINUATION) {
        if (this.#msgOp === 0) return this.#fail(1002, "continuation frame without a message");
        if (rsv !== 0) return this.#fail(1002, "reserved bits set");
      } else if (op === OP_TEXT || op === OP_BINARY) {
        if (this.#msgOp !== 0) return this.#fail(1002, "data frame inside a fragmented message");
        let compressed = false;
        if (rsv === 0x40 && this.#deflate) compressed = true;
        else if (rsv !== 0) return this.#fail(1002, "reserved bits set");
        this.#msgOp = op;
        this.#compressed = compressed;
        this.#validate = op === OP_TEXT && !compressed;
        if (this.#validate) this.#utf8.reset();
      } else {
        return this.#fail(1002, "unknown opcode");
      }
      if (this.#msgLen + len > this.#max) return this.#fail(1009, "message too big");
    }
    this.#mask = masked ? (src[p] << 24) | (src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3] : 0;
    this.#masked = masked;
    this.#maskPos = 0;
    this.#opcode = op;
    this.#fin = fin;
    this.#frameLen = this.#remaining = len;
    this.#inPayload = len > 0;
    return true;
  }

  #frameEnd(): void {
    this.#inPayload = false;
    const op = this.#opcode;
    if (op >= 8) {
      const payload = this.#ctrl;
      this.#ctrl = EMPTY;
      if (op === OP_PING) this.#h.onPing(payload);
      else if (op === OP_PONG) this.#h.onPong(payload);
      else this.#close(payload);
      return;
    }
    if (!this.#fin) return;
    if (this.#validate && !this.#utf8.complete) { this.#fail(1007, "invalid UTF-8 in a text message"); return; }
    const data = this.#direct ?? (this.#msgBuf === null ? EMPTY : this.#msgBuf.subarray(0, this.#msgLen));
    const binary = this.#msgOp === OP_BINARY;
    const compressed = this.#compressed;
    this.#direct = this.#msgBuf = null;
    this.#msgOp = this.#msgLen = 0;
    this.#compressed = this.#validate = false;
    this.#h.onMessage(binary, data, compressed);
  }

  #close(payload: Uint8Array): void {
    if (payload.length === 1) { this.#fail(1002, "close payload of one byte"); return; }
    let code = 1005;
    let reason = "";
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidCloseCode(code)) { this.#fail(1002, "invalid close code"); return; }
      if (!isValidUtf8(payload, 2)) { this.#fail(1007, "invalid UTF-8 in the close reason"); return; }
      if (payload.length > 2) reason = decoder.decode(payload.subarray(2));
    }
    this.stop();
    this.#h.onClose(code, reason);
  }

  #fail(code: number, reason: string): false {
    this.stop();
    this.#h.onError(code, reason);
    return false;
  }
}

// ---------------------------------------------------------------- writer

const HEAD = new Uint8Array(10);
const HEAD2 = HEAD.subarray(0, 2);
const HEAD4 = HEAD.subarray(0, 4);

/** Appends a server frame header (unmasked, RFC 6455 §5.1) for a payload of `length` bytes. */
export function writeFrameHead(out: OutBuffer, opcode: number, length: number, rsv1 = false, fin = true): void {
  HEAD[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) {
    HEAD[1] = length;
    out.bytes(HEAD2);
  } else if (length < 0x10000) {
    HEAD[1] = 126;
    HEAD[2] = length >>> 8;
    HEAD[3] = length & 0xff;
    out.bytes(HEAD4);
  } else {
    HEAD[1] = 127;
    const hi = Math.floor(length / 0x100000000);
    HEAD[2] = hi >>> 24;
    HEAD[3] = (hi >>> 16) & 0xff;
    HEAD[4] = (hi >>> 8) & 0xff;
    HEAD[5] = hi & 0xff;
    HEAD[6] = length >>> 24;
    HEAD[7] = (length >>> 16) & 0xff;
    HEAD[8] = (length >>> 8) & 0xff;
    HEAD[9] = length & 0xff;
    out.bytes(HEAD);
  }
}

/** Size of the header {@linkcode writeFrameHead} writes for `length` payload bytes. */
export function frameHeadSize(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** Appends a whole server frame. */
export function writeFrame(out: OutBuffer, opcode: number, payload: Uint8Array, rsv1 = false): void {
  writeFrameHead(out, opcode, payload.length, rsv1, true);
  if (payload.length > 0) out.bytes(payload);
}

const encoder = new TextEncoder();
/** Reused for short strings; grows to at most SCRATCH_TEXT_MAX. */
let textScratch = new Uint8Array(1024);
/** Strings up to this many UTF-16 units are encoded into the shared scratch (3 bytes each at most). */
const SCRATCH_TEXT_MAX = 16 * 1024;

/**
 * UTF-8 bytes of `s`. Short strings come back as a view of a shared scratch
 * buffer, valid only until the next call: copy (or write) them at once.
 */
export function encodeText(s: string): Uint8Array {
  if (s.length > SCRATCH_TEXT_MAX) return encoder.encode(s);
  const need = s.length * 3;
  if (textScratch.length < need) textScratch = new Uint8Array(Math.max(need, textScratch.length * 2));
  const { written } = encoder.encodeInto(s, textScratch);
  return textScratch.subarray(0, written);
}

/**
 * A close frame's payload: the code and as much of `reason` as fits in
 * 123 bytes, cut at a character boundary (§5.5: control payloads ≤ 125).
 * Code 1005 means "no code": an empty payload.
 */
export function closePayload(code: number, reason: string): Uint8Array {
  if (code === 1005) return EMPTY;
  let r = encoder.encode(reason);
  if (r.length > 123) {
    let cut = 123;
    while (cut > 0 && (r[cut] & 0xc0) === 0x80) cut--;
    r = r.subarray(0, cut);
  }
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
