/**
 * Client-side WebSocket frames for tests: masked by default, any header
 * field forceable, so tests can build both valid and broken frames.
 *
 * @module
 */

const enc = new TextEncoder();

/** A frame to build. */
export interface F {
  op: number;
  payload?: Uint8Array | string | number[];
  fin?: boolean;
  rsv?: number;
  mask?: boolean;
  /** Force the 7-bit length field (127: 64-bit form even for a short payload). */
  len7?: number;
  /** Declared length in the 64-bit form, overriding the payload's. */
  declared?: [number, number];
}

/** A client frame. */
export function frame(f: F): Uint8Array {
  const p = typeof f.payload === "string" ? enc.encode(f.payload) : new Uint8Array(f.payload ?? []);
  const mask = f.mask !== false;
  const n = p.length;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.op];
  const len7 = f.len7 ?? (n < 126 ? n : n < 0x10000 ? 126 : 127);
  const m = mask ? 0x80 : 0;
  if (f.declared) {
    head.push(m | 127);
    const [hi, lo] = f.declared;
    head.push(hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);
  } else if (len7 < 126) head.push(m | n);
  else if (len7 === 126) head.push(m | 126, n >>> 8, n & 255);
  else head.push(m | 127, 0, 0, 0, 0, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (mask) head.push(...key);
  const out = new Uint8Array(head.length + n);
  out.set(head);
  for (let i = 0; i < n; i++) out[head.length + i] = mask ? p[i] ^ key[i & 3] : p[i];
  return out;
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

