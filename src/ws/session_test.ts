import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameParser } from "./frame.ts";
import type { ProtocolEvents, Socket } from "./seam.ts";
import { CLOSED, CLOSING, OPEN, WebSocketSession } from "./session.ts";
import type { WebSocketHandler, WebSocketOptions } from "./session.ts";
import { cat, frame } from "../../test/helpers/ws_frames.ts";

const dec = new TextDecoder();

/** An in-memory socket: records writes; the test delivers events. */
class FakeSocket implements Socket {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 40000;
  readonly localAddress = "127.0.0.1";
  readonly localPort = 8080;
  writes: Uint8Array[] = [];
  writable = true;
  paused = false;
  ended = false;
  destroyed = false;
  start(): void {}
  write(b: Uint8Array): boolean {
    this.writes.push(b.slice());
    return this.writable;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The server's frames so far, as strings. */
  frames(): string[] {
    const got: string[] = [];
    const p = new FrameParser(
      {
        onMessage: (b, d, z) => got.push(`${z ? "z" : ""}${b ? "binary" : "text"}:${b ? d.length : dec.decode(d)}`),
        onPing: (d) => got.push(`ping:${dec.decode(d)}`),
        onPong: (d) => got.push(`pong:${dec.decode(d)}`),
        onClose: (c, r) => got.push(`close:${c}:${r}`),
        onError: (c, r) => got.push(`error:${c}:${r}`),
      },
      { maxMessageBytes: 1 << 30, requireMask: false, deflate: true },
    );
    p.push(cat(...this.writes));
    return got;
  }
}

interface Log {
  events: string[];
  handler: WebSocketHandler<string>;
}

function logHandler(extra: Partial<WebSocketHandler<string>> = {}): Log {
  const events: string[] = [];
  const handler: WebSocketHandler<string> = {
    open: (ws) => events.push(`open:${ws.data}`),
    message: (ws, m) => {
      events.push(typeof m === "string" ? `text:${m}` : `binary:${m.length}`);
    },
    close: (_ws, code, reason) => events.push(`close:${code}:${reason}`),
    drain: () => events.push("drain"),
    ...extra,
  };
  return { events, handler };
}

function open(handler: WebSocketHandler<string>, options: WebSocketOptions = {}, buffered: Uint8Array = new Uint8Array(0)) {
  const ws = new WebSocketSession(handler, "d", {}, { pingIntervalMs: 0, ...options });
  const sock = new FakeSocket();
  const ev: ProtocolEvents = ws.attach(sock, buffered);
  return { ws, sock, ev };
}

test("open, bytes that followed the upgrade head, echo batched into one write", () => {
  const { events, handler } = logHandler({ message: (ws, m) => void ws.send(m) });
  const { ws, sock, ev } = open(handler, {}, frame({ op: 1, payload: "early" }));
  assert.deepEqual(events, ["open:d"]);
  assert.equal(ws.readyState, OPEN);
  assert.deepEqual(sock.frames(), ["text:early"]);
  sock.writes = [];
  ev.data(cat(frame({ op: 1, payload: "a" }), frame({ op: 2, payload: [1, 2, 3] }), frame({ op: 9, payload: "p" })));
  assert.equal(sock.writes.length, 1, "one socket write for the whole read");
  assert.deepEqual(sock.frames(), ["text:a", "binary:3", "pong:p"]);
  assert.equal(ws.messagesIn, 3);
  assert.equal(ws.messagesOut, 3);
});

test("large messages go out with their payload as a write of its own, copied", () => {
  const { handler } = logHandler();
  const { ws, sock } = open(handler);
  const big = new Uint8Array(200_000).fill(7);
  assert.equal(ws.send(big), 200_010);
  big.fill(0);
  assert.equal(sock.writes.length, 2);
  assert.equal(sock.writes[1][0], 7);
  assert.deepEqual(sock.frames(), ["binary:200000"]);
  const s = "é".repeat(20_000);
  assert.equal(ws.send(s), 40_004);
  assert.deepEqual(sock.frames().at(-1), `text:${s}`);
});

test("close started by the client: echoed, TCP ended by the server, handler once with the client's code", () => {
  const { events, handler } = logHandler();
  const { ws, sock, ev } = open(handler);
  ev.data(frame({ op: 8, payload: [0x03, 0xe8, ...new TextEncoder().encode("bye")] }));
  assert.deepEqual(sock.frames(), ["close:1000:"]);
  assert.ok(sock.ended);
  assert.equal(ws.readyState, CLOSING);
  assert.equal(ws.send("late"), 0);
  ev.close();
  ev.close();
  assert.equal(ws.readyState, CLOSED);
  assert.deepEqual(events, ["open:d", "close:1000:bye"]);
});

test("close without a code is echoed empty and reported 1005", () => {
  const { events, handler } = logHandler();
  const { sock, ev } = open(handler);
  ev.data(frame({ op: 8 }));
  assert.deepEqual(sock.frames(), ["close:1005:"]);
  ev.close();
  assert.deepEqual(events.at(-1), "close:1005:");
});

test("close started by the server: waits for the client's close, then ends TCP", () => {
  const { events, handler } = logHandler();
  const { ws, sock, ev } = open(handler);
  ws.close(4000, "done");
  assert.deepEqual(sock.frames(), ["close:4000:done"]);
  assert.equal(ws.readyState, CLOSING);
  assert.ok(!sock.ended);
  assert.equal(ws.send("x"), 0);
  ev.data(cat(frame({ op: 1, payload: "ignored" }), frame({ op: 8, payload: [0x0f, 0xa0] })));
  assert.ok(sock.ended);
  assert.deepEqual(sock.frames(), ["close:4000:done"], "nothing after our close");
  ev.close();
  assert.deepEqual(events, ["open:d", "close:4000:"]);
  assert.throws(() => new WebSocketSession({}, "").close(1006));
});

test("close handshake timeout: the sweep destroys the socket, handler gets 1006", () => {
  const { events, handler } = logHandler();
  const { ws, sock, ev } = open(handler, { closeTimeoutMs: 5000 });
  ws.close();
  ev.sweep!(1000);
  assert.ok(!sock.destroyed);
  ev.sweep!(5999);
  assert.ok(!sock.destroyed);
  ev.sweep!(6000);
  assert.ok(sock.destroyed);
  assert.deepEqual(events, ["open:d", "close:1006:"]);
  ev.close();
  assert.equal(events.length, 2);
});

test("TCP dropped without a close frame: 1006", () => {
  const { events, handler } = logHandler();
  const { sock, ev } = open(handler);
  ev.end();
  assert.ok(sock.ended);
  ev.close();
  assert.deepEqual(events, ["open:d", "close:1006:"]);
  const b = logHandler();
  const two = open(b.handler);
  two.ev.close();
  assert.deepEqual(b.events, ["open:d", "close:1006:"]);
});

test("protocol errors fail the connection with their code", () => {
  for (const [input, code] of [
    [frame({ op: 1, payload: "x", mask: false }), 1002],
    [frame({ op: 1, payload: [0xff] }), 1007],
    [frame({ op: 2, payload: new Uint8Array(11) }), 1009],
  ] as const) {
    const { events, handler } = logHandler();
    const { sock, ev } = open(handler, { maxMessageBytes: 10 });
    ev.data(input);
    const got = sock.frames();
    assert.equal(got.length, 1);
    assert.match(got[0], new RegExp(`^close:${code}:`));
    assert.ok(sock.ended);
    ev.close();
    assert.match(events.at(-1)!, new RegExp(`^close:${code}:`));
  }
});

test("shutdown sends 1001", () => {
  const { events, handler } = logHandler();
  const { sock, ev } = open(handler);
  ev.shutdown!();
  ev.shutdown!();
  assert.deepEqual(sock.frames(), ["close:1001:server shutting down"]);
  ev.data(frame({ op: 8, payload: [0x03, 0xe9] }));
  assert.ok(sock.ended);
  ev.close();
  assert.deepEqual(events, ["open:d", "close:1001:"]);
});

test("backpressure: send reports -1, bufferedAmount grows, drain resets it", () => {
  const { events, handler } = logHandler();
  const { ws, sock, ev } = open(handler);
  assert.equal(ws.send("hello"), 7);
  assert.equal(ws.bufferedAmount, 0);
  sock.writable = false;
  assert.equal(ws.send("hello"), -1);
  assert.equal(ws.bufferedAmount, 7);
  assert.ok(ws.backpressured);
  sock.writable = true; // the runtime would still be full until drain
  assert.equal(ws.send("hello!"), -1);
  assert.equal(ws.bufferedAmount, 15);
  ev.drain();
  assert.deepEqual(events, ["open:d", "drain"]);
  assert.equal(ws.bufferedAmount, 0);
  assert.equal(ws.send("x"), 3);
});

test("backpressure limit: drop the message, or the connection when asked", () => {
  const { handler } = logHandler();
  const { ws, sock } = open(handler, { backpressureLimit: 20 });
  sock.writable = false;
  assert.equal(ws.send("1234567890"), -1); // 12 bytes queued
  assert.equal(ws.send("1234567890"), 0); // 24 > 20: dropped
  assert.equal(ws.bufferedAmount, 12);
  assert.equal(ws.readyState, OPEN);
  const b = logHandler();
  const two = open(b.handler, { backpressureLimit: 20, closeOnBackpressureLimit: true });
  two.sock.writable = false;
  assert.equal(two.ws.send("1234567890"), -1);
  assert.equal(two.ws.send("1234567890"), 0);
  assert.ok(two.sock.destroyed);
  assert.deepEqual(b.events, ["open:d", "close:1006:backpressure limit"]);
});

test("ping and pong: auto pong, handler callbacks, app pings", () => {
  const seen: string[] = [];
  const { handler } = logHandler({ ping: (_ws, d) => seen.push(`ping:${dec.decode(d)}`), pong: (_ws, d) => seen.push(`pong:${dec.decode(d)}`) });
  const { ws, sock, ev } = open(handler);
  ev.data(cat(frame({ op: 9, payload: "a" }), frame({ op: 10, payload: "b" })));
  assert.ok(ws.ping("hi") > 0);
  assert.throws(() => ws.ping(new Uint8Array(126)));
  assert.deepEqual(sock.frames(), ["pong:a", "ping:hi"]);
  assert.deepEqual(seen, ["ping:a", "pong:b"]);
});

test("server pings after the ping interval of quiet", () => {
  const { handler } = logHandler();
  const { sock, ev } = open(handler, { pingIntervalMs: 100, idleTimeoutMs: 0 });
  ev.sweep!(0);
  ev.sweep!(99);
  assert.deepEqual(sock.frames(), []);
  ev.sweep!(100);
  ev.sweep!(150);
  assert.deepEqual(sock.frames(), ["ping:"]);
  ev.sweep!(200);
  assert.deepEqual(sock.frames(), ["ping:", "ping:"]);
});

test("idle timeout via the sweep; a pong counts as activity", () => {
  const { events, handler } = logHandler();
  const { sock, ev } = open(handler, { idleTimeoutMs: 1000 });
  ev.sweep!(0);
  ev.sweep!(600);
  ev.data(frame({ op: 10 }));
  ev.sweep!(700);
  ev.sweep!(1600);
  assert.deepEqual(sock.frames(), []);
  ev.sweep!(1700);
  assert.deepEqual(sock.frames(), ["close:1001:idle timeout"]);
  ev.sweep!(1701);
  ev.sweep!(1701 + 5000);
  assert.ok(sock.destroyed);
  assert.deepEqual(events, ["open:d", "close:1006:"]);
});

test("ordered handling: reading pauses while the handler's promise is pending", async () => {
  const order: string[] = [];
  const gates: (() => void)[] = [];
  const { handler } = logHandler({
    message: (_ws, m) => {
      order.push(`start:${m}`);
      return new Promise<void>((resolve) => gates.push(() => (order.push(`end:${m}`), resolve())));
    },
  });
  const { sock, ev } = open(handler, { ordered: true });
  ev.data(cat(frame({ op: 1, payload: "1" }), frame({ op: 1, payload: "2" })));
  ev.data(frame({ op: 1, payload: "3" }));
  assert.deepEqual(order, ["start:1"]);
  assert.ok(sock.paused);
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(order, ["start:1", "end:1", "start:2"]);
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(order, ["start:1", "end:1", "start:2", "end:2", "start:3", "end:3"]);
  assert.ok(!sock.paused);
});

test("unordered async handlers run concurrently; rejections reach the error handler", async () => {
  const errors: unknown[] = [];
  let started = 0;
  const { handler } = logHandler({
    message: () => {
      started++;
      return Promise.reject(new Error("boom"));
    },
    error: (_ws, e) => void errors.push(e),
  });
  const { ev } = open(handler);
  ev.data(cat(frame({ op: 1, payload: "1" }), frame({ op: 1, payload: "2" })));
  assert.equal(started, 2);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(errors.length, 2);
});

test("a throwing handler does not break the session; cork joins frames", () => {
  const errors: unknown[] = [];
  const { handler } = logHandler({
    message: () => {
      throw new Error("x");
    },
    error: (_ws, e) => void errors.push(e),
  });
  const { ws, sock, ev } = open(handler);
  ev.data(frame({ op: 1, payload: "1" }));
  assert.equal(errors.length, 1);
  ws.cork(() => {
    ws.send("a");
    ws.send("b");
  });
  assert.equal(sock.writes.length, 1);
  assert.deepEqual(sock.frames(), ["text:a", "text:b"]);
  assert.equal(ws.bytesOut, 6);
});

test("prepareUpgrade: session and 101 fields, or the RFC's error response", async () => {
  const { prepareUpgrade } = await import("./mod.ts");
  const headers = new Headers({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-protocol": "chat",
    "sec-websocket-extensions": "permessage-deflate",
  });
  const ok = prepareUpgrade({ method: "GET", headers }, {}, 1, { protocols: ["chat"], perMessageDeflate: true });
  assert.ok(ok.ok);
  assert.equal(ok.session.protocol, "chat");
  assert.equal(ok.session.extensions, "", "no codec factory: deflate declined");
  assert.equal(ok.session.readyState, 0);
  assert.deepEqual(ok.headers.map((h) => h[0]), ["Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"]);
  headers.set("sec-websocket-version", "7");
  const bad = prepareUpgrade({ method: "GET", headers }, {}, 1);
  assert.ok(!bad.ok);
  assert.equal(bad.response.status, 426);
  assert.equal(bad.response.headers.get("sec-websocket-version"), "13");
  await bad.response.body?.cancel();
});

test("close from inside the message handler: the reply and the close frame leave in order, then FIN", () => {
  const { events, handler } = logHandler({
    message: (ws, m) => {
      ws.send(`last: ${m}`);
      ws.close(1000, "done");
      assert.equal(ws.send("after"), 0);
    },
  });
  const { ws, sock, ev } = open(handler);
  ev.data(cat(frame({ op: 1, payload: "a" }), frame({ op: 1, payload: "b" })));
  assert.deepEqual(sock.frames(), ["text:last: a", "close:1000:done"], "the second message is discarded once closing");
  assert.ok(!sock.ended, "waits for the client's close");
  ev.data(frame({ op: 8, payload: [0x03, 0xe8] }));
  ev.end();
  assert.ok(sock.ended);
  ev.close();
  assert.deepEqual(events, ["open:d", "close:1000:"]);
  assert.equal(ws.getBufferedAmount(), 0);
});

test("terminate: no close frame, handler once with 1006", () => {
  const { events, handler } = logHandler();
  const { ws, sock, ev } = open(handler);
  ws.terminate();
  ws.terminate();
  ev.close();
  assert.ok(sock.destroyed);
  assert.deepEqual(sock.frames(), []);
  assert.deepEqual(events, ["open:d", "close:1006:"]);
  assert.equal(ws.readyState, CLOSED);
});
