import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OutBuffer } from "./writer.ts";

describe("OutBuffer.giveBack", () => {
  it("builds the next message in the bytes handed back", () => {
    const out = new OutBuffer();
    out.latin1("first");
    const a = out.take();
    out.giveBack(a);
    out.latin1("second");
    const b = out.take();
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.byteOffset, a.byteOffset);
    assert.equal(new TextDecoder().decode(b), "second");
  });

  it("leaves alone a view that is not the last taken, or once more was appended", () => {
    const out = new OutBuffer();
    out.latin1("kept");
    const a = out.take();
    out.latin1("next");
    const b = out.take();
    out.giveBack(a); // not the last one: b follows it
    out.latin1("more");
    out.giveBack(b); // more was appended since b
    const c = out.take();
    assert.equal(new TextDecoder().decode(a), "kept");
    assert.equal(new TextDecoder().decode(b), "next");
    assert.equal(new TextDecoder().decode(c), "more");
    assert.equal(c.byteOffset, b.byteOffset + b.length);
    out.giveBack(new Uint8Array(4)); // not its memory at all
    out.latin1("last");
    assert.equal(out.take().byteOffset, c.byteOffset + c.length);
  });
});

describe("OutBuffer.bytes", () => {
  // Short pieces are copied by a loop, longer ones by set(): each length on
  // both sides of that line, at the start of a message and after other bytes,
  // comes out exactly.
  const lengths = [0, 1, 2, 15, 16, 17, 31, 64, 65, 1000, 70_000];
  for (const n of lengths) {
    it(`copies ${n} bytes exactly, alone and after a prefix`, () => {
      const piece = new Uint8Array(n);
      for (let i = 0; i < n; i++) piece[i] = (i * 7 + 3) & 0xff;
      const out = new OutBuffer();
      out.bytes(piece);
      assert.deepEqual(out.take(), piece);
      out.latin1("ab");
      out.bytes(piece);
      out.crlf();
      const got = out.take();
      assert.equal(got.length, n + 4);
      assert.deepEqual(got.subarray(0, 2), new Uint8Array([0x61, 0x62]));
      assert.deepEqual(got.subarray(2, 2 + n), piece);
      assert.deepEqual(got.subarray(2 + n), new Uint8Array([0x0d, 0x0a]));
    });
  }

  it("copies a view of a larger buffer, not the buffer it is cut from", () => {
    const whole = new Uint8Array(100).map((_, i) => i);
    for (const n of [5, 16, 17, 40]) {
      const out = new OutBuffer();
      out.bytes(whole.subarray(10, 10 + n));
      assert.deepEqual(out.take(), whole.slice(10, 10 + n));
    }
  });

  it("keeps a message whole when it outgrows the slab", () => {
    const out = new OutBuffer();
    const pieces: Uint8Array[] = [];
    let total = 0;
    // 17..80-byte pieces until past one 64 KiB slab
    for (let k = 0; total < 70_000; k++) {
      const piece = new Uint8Array(17 + (k % 64)).fill(k & 0xff);
      pieces.push(piece);
      total += piece.length;
      out.bytes(piece);
    }
    const got = out.take();
    assert.equal(got.length, total);
    let at = 0;
    for (const piece of pieces) {
      assert.deepEqual(got.subarray(at, at + piece.length), piece);
      at += piece.length;
    }
  });
});
