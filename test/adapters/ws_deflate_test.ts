/**
 * permessage-deflate with the `node:zlib` codec, on every runtime: round
 * trips, context takeover across messages (checked against zlib's own
 * streaming compressor and decompressor), no-context-takeover, and a zip
 * bomb over the message limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, createDeflateRaw, inflateRawSync } from "node:zlib";
import { nodeDeflate } from "../../adapters/_node_api/ws_deflate.ts";
import type { DeflateParams } from "../../src/ws/handshake.ts";
import { FrameParser } from "../../src/ws/frame.ts";
import type { Socket } from "../../src/ws/seam.ts";
import { WebSocketSession } from "../../src/ws/session.ts";
import { cat, frame } from "../helpers/ws_frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TAIL = new Uint8Array([0, 0, 0xff, 0xff]);
const params = (p: Partial<DeflateParams> = {}): DeflateParams => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...p,
});

const messages = [
  "hello hello hello world ".repeat(20),
  "hello hello hello world ".repeat(20) + "X",
  "",
  "another message, with some text that repeats: another message",
  "x".repeat(100_000),
];

test("round trip, several messages, context kept, all window sizes", () => {
  for (const bits of [9, 12, 15]) {
    const server = nodeDeflate()(params({ serverMaxWindowBits: bits, clientMaxWindowBits: bits }));
    const peer = nodeDeflate()(params({ serverMaxWindowBits: bits, clientMaxWindowBits: bits }));
    for (const m of messages) {
      const z = server.deflate(enc.encode(m), true);
      assert.equal(dec.decode(peer.inflate(z, true, 1 << 20)!), m);
    }
  }
});

test("the compressed messages are one DEFLATE stream: a context-keeping decoder reads them", () => {
  const server = nodeDeflate()(params());
  const stream: Uint8Array[] = [];
  for (const m of messages) stream.push(server.deflate(enc.encode(m), true), TAIL);
  const all = inflateRawSync(cat(...stream), { finishFlush: constants.Z_SYNC_FLUSH });
  assert.equal(dec.decode(all), messages.join(""));
  assert.equal([...nodeDeflate()(params()).deflate(new Uint8Array(0), true)].join(), "0", "RFC 7692 §7.2.3.6: empty message is 0x00");
});

/** Messages compressed by zlib's streaming compressor with a sync flush each, as a client with context takeover sends them. */
async function streamed(texts: string[]): Promise<Uint8Array[]> {
  const d = createDeflateRaw();
  const chunks: Uint8Array[] = [];
  d.on("data", (c: Uint8Array) => chunks.push(c));
  const out: Uint8Array[] = [];
  for (const t of texts) {
    d.write(enc.encode(t));
    await new Promise<void>((r) => d.flush(constants.Z_SYNC_FLUSH, () => r()));
    const m = cat(...chunks.splice(0));
    assert.deepEqual([...m.subarray(-4)], [...TAIL]);
    out.push(m.subarray(0, m.length - 4));
  }
  d.close();
  return out;
}

test("inflate keeps context across messages from a streaming client compressor", async () => {
  const wire = await streamed(messages);
  const codec = nodeDeflate()(params());
  for (let i = 0; i < messages.length; i++) assert.equal(dec.decode(codec.inflate(wire[i], true, 1 << 20)!), messages[i]);
  // The second message refers back into the first: without the context it cannot be read.
  const fresh = nodeDeflate()(params({ clientNoContextTakeover: true }));
  assert.equal(dec.decode(fresh.inflate(wire[0], true, 1 << 20)!), messages[0]);
  assert.ok(wire[1].length < 20, "compressed against the first message");
  assert.throws(() => fresh.inflate(wire[1], true, 1 << 20));
});

test("inflate of a fragmented compressed message; deflate of parts", () => {
  const codec = nodeDeflate()(params());
  const z = nodeDeflate()(params()).deflate(enc.encode(messages[0]), true);
  assert.equal(codec.inflate(z.subarray(0, 5), false, 1000)!.length, 0);
  assert.equal(dec.decode(codec.inflate(z.subarray(5), true, 1000)!), messages[0]);
  const d = nodeDeflate()(params());
  assert.equal(d.deflate(enc.encode("ab"), false).length, 0);
  const whole = d.deflate(enc.encode("cd"), true);
  assert.equal(dec.decode(nodeDeflate()(params()).inflate(whole, true, 100)!), "abcd");
});

test("server_no_context_takeover: every message compresses alone", () => {
  const codec = nodeDeflate()(params({ serverNoContextTakeover: true }));
  const a = codec.deflate(enc.encode(messages[0]), true);
  const b = codec.deflate(enc.encode(messages[0]), true);
  assert.deepEqual([...a], [...b]);
  assert.equal(dec.decode(inflateRawSync(cat(b, TAIL), { finishFlush: constants.Z_SYNC_FLUSH })), messages[0]);
});

test("zip bomb: inflating past the limit returns null, at the limit succeeds", () => {
  const bomb = nodeDeflate({ level: 9 })(params()).deflate(new Uint8Array(20_000_000), true);
  assert.ok(bomb.length < 1_000_000, `compressed ${bomb.length} bytes: under the limit`);
  assert.equal(nodeDeflate()(params()).inflate(bomb, true, 1_000_000), null);
  const exact = nodeDeflate()(params()).deflate(new Uint8Array(1000), true);
  assert.equal(nodeDeflate()(params()).inflate(exact, true, 1000)!.length, 1000);
  assert.equal(nodeDeflate()(params()).inflate(exact, true, 999), null);
  assert.throws(() => nodeDeflate()(params()).inflate(new Uint8Array([0xff, 0xff, 0xff]), true, 1000));
});

class Sock implements Socket {
  remoteAddress = "";
  remotePort = 0;
  localAddress = "";
  localPort = 0;
  writes: Uint8Array[] = [];
  ended = false;
  start() {}
  write(b: Uint8Array) {
    this.writes.push(b.slice());
    return true;
  }
  pause() {}
  resume() {}
  end() {
    this.ended = true;
  }
  destroy() {}
}

test("session with permessage-deflate: compressed messages in and out, bomb closes 1009", () => {
  const got: string[] = [];
  const ws = new WebSocketSession(
    { message: (ws, m) => (got.push(typeof m === "string" ? m : `bytes:${m.length}`), void ws.send(m)) },
    null,
    { extensions: "permessage-deflate", deflate: params() },
    { deflate: nodeDeflate(), maxMessageBytes: 1_000_000, pingIntervalMs: 0 },
  );
  const sock = new Sock();
  const ev = ws.attach(sock, new Uint8Array(0));
  const client = nodeDeflate()(params());
  const z = client.deflate(enc.encode(messages[0]), true);
  ev.data(cat(frame({ op: 1, rsv: 4, fin: false, payload: z.subarray(0, 3) }), frame({ op: 0, payload: z.subarray(3) }), frame({ op: 1, payload: "tiny" })));
  assert.deepEqual(got, [messages[0], "tiny"]);
  const out: string[] = [];
  const peer = nodeDeflate()(params());
  new FrameParser(
    {
      onMessage: (_b, d, compressed) => out.push(compressed ? `z:${dec.decode(peer.inflate(d, true, 1 << 20)!)}` : dec.decode(d)),
      onPing() {},
      onPong() {},
      onClose: (c) => out.push(`close:${c}`),
      onError: (c) => out.push(`error:${c}`),
    },
    { maxMessageBytes: 1 << 20, requireMask: false, deflate: true },
  ).push(cat(...sock.writes));
  assert.deepEqual(out, [`z:${messages[0]}`, "tiny"], "short messages go uncompressed");
  // Invalid UTF-8 inside a compressed text message: 1007.
  ev.data(frame({ op: 1, rsv: 4, payload: client.deflate(new Uint8Array([0xc0, 0xaf]), true) }));
  assert.ok(sock.ended);
  const last = sock.writes.at(-1)!;
  assert.equal(last[0], 0x88, "a close frame");
  assert.deepEqual([...last.subarray(2, 4)], [0x03, 0xef], "closed with 1007");

  const bombed = new WebSocketSession({}, null, { deflate: params() }, { deflate: nodeDeflate(), maxMessageBytes: 1_000_000, pingIntervalMs: 0 });
  const s2 = new Sock();
  const ev2 = bombed.attach(s2, new Uint8Array(0));
  ev2.data(frame({ op: 2, rsv: 4, payload: nodeDeflate()(params()).deflate(new Uint8Array(20_000_000), true) }));
  assert.ok(s2.ended);
  assert.deepEqual([...s2.writes[0].subarray(2, 4)], [0x03, 0xf1], "closed with 1009");
});
