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
