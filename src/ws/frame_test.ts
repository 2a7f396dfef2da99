import { test } from "node:test";
import assert from "node:assert/strict";
import { closePayload, encodeText, FrameParser, writeFrame, writeFrameHead } from "./frame.ts";
import type { FrameHandler } from "./frame.ts";
import { OutBuffer } from "../http/writer.ts";
import { cat, frame } from "../../test/helpers/ws_frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

class Recorder implements FrameHandler {
  events: string[] = [];
  onMessage(binary: boolean, payload: Uint8Array, compressed: boolean): void {
    const body = binary ? hex(payload) : dec.decode(payload);
    this.events.push(`${compressed ? "z" : ""}${binary ? "binary" : "text"}:${body.length > 40 ? `${body.length}` : body}`);
  }
  onPing(p: Uint8Array): void {
    this.events.push(`ping:${dec.decode(p)}`);
  }
  onPong(p: Uint8Array): void {
    this.events.push(`pong:${dec.decode(p)}`);
  }
  onClose(code: number, reason: string): void {
    this.events.push(`close:${code}:${reason}`);
  }
  onError(code: number): void {
    this.events.push(`error:${code}`);
  }
}

function parse(input: Uint8Array, cuts: number[], opts: { max?: number; deflate?: boolean } = {}): string[] {
  const r = new Recorder();
  const p = new FrameParser(r, { maxMessageBytes: opts.max ?? 1 << 20, deflate: opts.deflate });
  const bytes = input.slice(); // the parser unmasks in place
  let last = 0;
  for (const c of [...cuts, bytes.length]) {
    p.push(bytes.subarray(last, c));
    last = c;
  }
  return r.events;
}

const closeFrame = (code: number, reason = "") =>
  frame({ op: 8, payload: [code >>> 8, code & 255, ...enc.encode(reason)] });
const big = (n: number) => new Uint8Array(n).map((_, i) => i & 0xff);

const cases: [string, Uint8Array, string[], { max?: number; deflate?: boolean }?][] = [
  // RFC 6455 §5.7: a single-frame masked text message
  ["RFC 5.7 masked Hello", new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]), ["text:Hello"]],
  ["RFC 5.7 fragmented Hello", cat(frame({ op: 1, fin: false, payload: "Hel" }), frame({ op: 0, payload: "lo" })), ["text:Hello"]],
  ["RFC 5.7 ping Hello", frame({ op: 9, payload: "Hello" }), ["ping:Hello"]],
  ["RFC 5.7 pong Hello", frame({ op: 10, payload: "Hello" }), ["pong:Hello"]],
  [
    "ping interleaved in a fragmented message",
    cat(frame({ op: 1, fin: false, payload: "Hel" }), frame({ op: 9, payload: "x" }), frame({ op: 0, fin: false, payload: "l" }), frame({ op: 10 }), frame({ op: 0, payload: "o" })),
    ["ping:x", "pong:", "text:Hello"],
  ],
  ["three messages in one read", cat(frame({ op: 1, payload: "a" }), frame({ op: 2, payload: [1, 2] }), frame({ op: 1, payload: "c" })), ["text:a", "binary:0102", "text:c"]],
  ["empty messages and empty fragments", cat(frame({ op: 1 }), frame({ op: 2 }), frame({ op: 1, fin: false }), frame({ op: 0, fin: false }), frame({ op: 0, payload: "z" })), ["text:", "binary:", "text:z"]],
  ["16-bit length", frame({ op: 2, payload: big(300) }), ["binary:600"]],
  ["64-bit length", frame({ op: 2, payload: big(70000) }), ["binary:140000"]],
  ["64-bit form for a short payload", frame({ op: 1, payload: "hi", len7: 127 }), ["text:hi"]],
  ["64-bit length with the MSB set", frame({ op: 2, declared: [0x80000000, 0] }), ["error:1002"]],
  ["64-bit length over the limit", frame({ op: 2, declared: [0x100, 0] }), ["error:1009"]],
  ["message over the limit", frame({ op: 2, payload: big(101) }), ["error:1009"], { max: 100 }],
  ["message at the limit", frame({ op: 2, payload: big(100) }), ["binary:200"], { max: 100 }],
  ["fragments over the limit", cat(frame({ op: 2, fin: false, payload: big(60) }), frame({ op: 0, payload: big(60) })), ["error:1009"], { max: 100 }],
  ["valid UTF-8 split across fragments", cat(frame({ op: 1, fin: false, payload: [0xe2] }), frame({ op: 0, fin: false, payload: [0x82] }), frame({ op: 0, payload: [0xac] })), ["text:€"]],
  ["invalid UTF-8 (overlong)", frame({ op: 1, payload: [0xc0, 0xaf] }), ["error:1007"]],
  ["invalid UTF-8 (surrogate)", frame({ op: 1, payload: [0x61, 0xed, 0xa0, 0x80] }), ["error:1007"]],
  ["invalid UTF-8 split across fragments", cat(frame({ op: 1, fin: false, payload: [0xe2, 0x82] }), frame({ op: 0, payload: [0x28] })), ["error:1007"]],
  ["truncated UTF-8 at message end", cat(frame({ op: 1, fin: false, payload: [0x61] }), frame({ op: 0, payload: [0xe2, 0x82] })), ["error:1007"]],
  ["invalid UTF-8 fails before the message ends", frame({ op: 1, fin: false, payload: [0x61, 0xff] }), ["error:1007"]],
  ["binary is not UTF-8 checked", frame({ op: 2, payload: [0xff] }), ["binary:ff"]],
  ["unmasked frame", frame({ op: 1, payload: "hi", mask: false }), ["error:1002"]],
  ["control frame of 126 bytes", frame({ op: 9, payload: big(126) }), ["error:1002"]],
  ["control frame of 125 bytes", frame({ op: 10, payload: new Uint8Array(125).fill(0x61) }), [`pong:${"a".repeat(125)}`]],
  ["fragmented ping", frame({ op: 9, fin: false, payload: "x" }), ["error:1002"]],
  ["fragmented close", frame({ op: 8, fin: false, payload: [3, 232] }), ["error:1002"]],
  ["RSV1 without deflate", frame({ op: 1, rsv: 4, payload: "x" }), ["error:1002"]],
  ["RSV2", frame({ op: 1, rsv: 2, payload: "x" }), ["error:1002"], { deflate: true }],
  ["RSV3", frame({ op: 2, rsv: 1, payload: "x" }), ["error:1002"], { deflate: true }],
  ["RSV1 with deflate on a message's first frame", cat(frame({ op: 2, rsv: 4, fin: false, payload: [1] }), frame({ op: 0, payload: [2] })), ["zbinary:0102"], { deflate: true }],
  ["RSV1 with deflate on a continuation", cat(frame({ op: 2, fin: false, payload: [1] }), frame({ op: 0, rsv: 4, payload: [2] })), ["error:1002"], { deflate: true }],
  ["RSV1 with deflate on a ping", frame({ op: 9, rsv: 4 }), ["error:1002"], { deflate: true }],
  ["compressed text is not UTF-8 checked by the parser", frame({ op: 1, rsv: 4, payload: [0xff] }), ["ztext:\ufffd"], { deflate: true }],
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, Uint8Array, string[]] => [`unknown opcode ${op}`, frame({ op, payload: "x" }), ["error:1002"]]),
  ["continuation without a message", frame({ op: 0, payload: "x" }), ["error:1002"]],
  ["text inside a fragmented message", cat(frame({ op: 1, fin: false, payload: "a" }), frame({ op: 1, payload: "b" })), ["error:1002"]],
  ["close 1000 with a reason", closeFrame(1000, "bye"), ["close:1000:bye"]],
  ["close without payload", frame({ op: 8 }), ["close:1005:"]],
  ["close with a 1-byte payload", frame({ op: 8, payload: [3] }), ["error:1002"]],
  ["close reason not UTF-8", frame({ op: 8, payload: [3, 232, 0xff] }), ["error:1007"]],
  ["frames after a close are ignored", cat(closeFrame(1001), frame({ op: 1, payload: "late" })), ["close:1001:"]],
  ["errors stop the parser", cat(frame({ op: 3 }), frame({ op: 1, payload: "late" })), ["error:1002"]],
  ...[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999].map(
    (c): [string, Uint8Array, string[]] => [`close code ${c} accepted`, closeFrame(c), [`close:${c}:`]],
  ),
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].map(
    (c): [string, Uint8Array, string[]] => [`close code ${c} refused`, closeFrame(c), ["error:1002"]],
  ),
];

for (const [name, input, want, opts] of cases) {
  test(`frame: ${name}`, () => {
    assert.deepEqual(parse(input, [], opts), want, "whole");
    const n = input.length;
    // Every byte boundary; for the big payloads, the boundaries near the headers and ends.
    const cuts = n <= 4096 ? Array.from({ length: n + 1 }, (_, i) => i) : [...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 40 }, (_, i) => n - i), n >> 1];
    for (const c of cuts) assert.deepEqual(parse(input, [c], opts), want, `split at ${c}`);
    if (n <= 4096) assert.deepEqual(parse(input, Array.from({ length: n }, (_, i) => i), opts), want, "byte by byte");
  });
}

test("a message whole in one read is a view of it; a split one is a copy the parser does not reuse", () => {
  const got: Uint8Array[] = [];
  const h = { ...new Recorder(), onMessage: (_b: boolean, p: Uint8Array) => got.push(p), onPing() {}, onPong() {}, onClose() {}, onError() {} };
  const p = new FrameParser(h, { maxMessageBytes: 1000 });
  const one = frame({ op: 2, payload: [1, 2, 3] });
  p.push(one);
  assert.equal(got[0].buffer, one.buffer);
  const two = frame({ op: 2, payload: [4, 5, 6] });
  p.push(two.subarray(0, 7));
  p.push(two.subarray(7));
  const three = frame({ op: 2, payload: [7, 8, 9] });
  p.push(three.subarray(0, 7));
  p.push(three.subarray(7));
  assert.deepEqual(got.map((g) => [...g]), [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
});

test("pause stops after the current message; resume delivers what waited, in order", () => {
  const r = new Recorder();
  const p = new FrameParser(
    {
      ...r,
      onMessage(b, payload, c) {
        r.onMessage(b, payload, c);
        p.pause();
      },
      onPing: (x) => r.onPing(x),
      onPong: (x) => r.onPong(x),
      onClose: (c, s) => r.onClose(c, s),
      onError: (c) => r.onError(c),
    },
    { maxMessageBytes: 1000 },
  );
  const input = cat(frame({ op: 1, payload: "a" }), frame({ op: 1, payload: "b" }), frame({ op: 1, fin: false, payload: "c" }));
  p.push(input);
  assert.deepEqual(r.events, ["text:a"]);
  p.push(frame({ op: 0, payload: "d" }));
  assert.deepEqual(r.events, ["text:a"]);
  p.resume();
  assert.deepEqual(r.events, ["text:a", "text:b"]);
  p.resume();
  assert.deepEqual(r.events, ["text:a", "text:b", "text:cd"]);
  p.resume();
  p.push(frame({ op: 9, payload: "p" }));
  assert.deepEqual(r.events.at(-1), "ping:p");
});

test("writer: server frames are unmasked with minimal lengths", () => {
  const out = new OutBuffer();
  writeFrame(out, 1, enc.encode("Hello"));
  assert.equal(hex(out.take()), "810548656c6c6f"); // RFC 6455 §5.7 unmasked example
  writeFrameHead(out, 2, 256);
  assert.equal(hex(out.take()), "827e0100");
  writeFrameHead(out, 2, 65536);
  assert.equal(hex(out.take()), "827f0000000000010000");
  writeFrameHead(out, 2, 2 ** 32 + 5, true, false);
  assert.equal(hex(out.take()), "427f0000000100000005");
  writeFrame(out, 9, new Uint8Array(0));
  assert.equal(hex(out.take()), "8900");
});

test("writer output parses back (unmasked allowed) at every length form", () => {
  for (const n of [0, 125, 126, 65535, 65536]) {
    const out = new OutBuffer();
    writeFrame(out, 2, big(n));
    const r = new Recorder();
    new FrameParser(r, { maxMessageBytes: 1 << 20, requireMask: false }).push(out.take().slice());
    assert.deepEqual(r.events, [n === 0 ? "binary:" : n <= 20 ? `binary:${hex(big(n))}` : `binary:${2 * n}`]);
  }
});

test("close payload: code, reason cut at 123 bytes on a character boundary, 1005 empty", () => {
  assert.equal(hex(closePayload(1000, "ok")), "03e86f6b");
  assert.equal(closePayload(1005, "x").length, 0);
  const long = closePayload(1001, "é".repeat(100));
  assert.equal(long.length, 2 + 122);
  assert.equal(dec.decode(long.subarray(2)), "é".repeat(61));
  assert.equal(dec.decode(encodeText("héllo €")), "héllo €");
  assert.equal(encodeText("x".repeat(20000)).length, 20000);
});

test("unmasking is right at every memory alignment and key position", () => {
  for (const len of [63, 64, 65, 127, 200, 1001]) {
    const payload = new Uint8Array(len).map((_, i) => (i * 31 + 7) & 0xff);
    const f = frame({ op: 2, payload });
    for (let offset = 0; offset < 8; offset++) {
      for (const cut of [0, 1, 5, 8, 9, 10, 11, 13, f.length - 70, f.length - 3]) {
        if (cut < 0 || cut > f.length) continue;
        const ab = new ArrayBuffer(f.length + 16);
        const view = new Uint8Array(ab, offset, f.length);
        view.set(f);
        let got: Uint8Array | null = null;
        const p = new FrameParser({ ...new Recorder(), onMessage: (_b, d) => void (got = d.slice()), onPing() {}, onPong() {}, onClose() {}, onError() {} }, { maxMessageBytes: 1 << 20 });
        p.push(view.subarray(0, cut));
        p.push(view.subarray(cut));
        assert.deepEqual(got, payload, `len ${len} offset ${offset} cut ${cut}`);
      }
    }
  }
});
