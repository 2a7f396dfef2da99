/**
 * The WebSocket core against each runtime's built-in `WebSocket` client,
 * over real sockets on 127.0.0.1 through the runtime's own transport. The
 * HTTP side is a minimal test-only upgrade (the connection layer's protocol
 * seam will do this in the server): read the head, `prepareUpgrade`, write
 * the 101, `attach` the session with the bytes after the head.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket, Transport } from "../../src/socket.ts";
import { prepareUpgrade } from "../../src/ws/mod.ts";
import type { ProtocolEvents, WebSocketHandler, WebSocketServerOptions, WebSocketSession } from "../../src/ws/mod.ts";
import { nodeDeflate } from "../../adapters/_node_api/ws_deflate.ts";
import * as net from "node:net";
import { cat as catAll, frame } from "../helpers/ws_frames.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const transport: Transport = runtime === "bun"
  ? (await import("../../adapters/bun.ts")).bunTransport
  : runtime === "deno"
  ? (await import("../../adapters/deno.ts")).denoTransport
  : (await import("../../adapters/node.ts")).nodeTransport;
const enc = new TextEncoder();
const dec = new TextDecoder();

function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

async function wsServer<T>(handler: WebSocketHandler<T>, data: T, options: WebSocketServerOptions = {}) {
  const sessions: WebSocketSession<T>[] = [];
  const sockets: Socket[] = [];
  const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => {
    sockets.push(socket);
    let head: Uint8Array = new Uint8Array(0);
    let ev: ProtocolEvents | null = null;
    socket.start({
      data(b) {
        if (ev !== null) return ev.data(b);
        head = cat(head, b);
        const end = headEnd(head);
        if (end < 0) return;
        const lines = dec.decode(head.subarray(0, end - 4)).split("\r\n");
        const [method] = lines[0].split(" ");
        const headers = new Headers();
        for (const l of lines.slice(1)) {
          const c = l.indexOf(":");
          headers.append(l.slice(0, c).trim(), l.slice(c + 1).trim());
        }
        const prep = prepareUpgrade({ method, headers }, handler, data, options);
        if (!prep.ok) {
          socket.write(enc.encode(`HTTP/1.1 ${prep.refused.status} Bad\r\ncontent-length: 0\r\n\r\n`));
          socket.end();
          return;
        }
        sessions.push(prep.session);
        const fields = prep.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");
        socket.write(enc.encode(`HTTP/1.1 101 Switching Protocols\r\n${fields}\r\n`));
        ev = prep.session.attach(socket, head.subarray(end));
      },
      drain: () => ev?.drain(),
      end: () => (ev ? ev.end() : socket.end()),
      close: () => ev?.close(),
    });
  });
  return {
    url: `ws://127.0.0.1:${listener.address.port}/`,
    sessions,
    close() {
      listener.close();
      for (const s of sockets) s.destroy();
    },
  };
}

interface ClientLog {
  ws: WebSocket;
  messages: (string | Uint8Array)[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

function client(url: string, protocols?: string[]): ClientLog {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const messages: (string | Uint8Array)[] = [];
  ws.onmessage = (e) => messages.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("client error"));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  return { ws, messages, opened, closed };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const echo: WebSocketHandler<null> = { message: (ws, m) => void ws.send(m) };

for (const deflate of [false, true]) {
  const label = deflate ? "with permessage-deflate offered" : "without compression";
  test(`${runtime} WebSocket client: echo text and binary, client close code reaches the server (${label})`, { timeout: 20_000 }, async () => {
    const closes: string[] = [];
    const srv = await wsServer({ ...echo, close: (_ws, code, reason) => void closes.push(`${code}:${reason}`) }, null, {
      protocols: ["chat"],
      perMessageDeflate: deflate,
      deflate: nodeDeflate(),
      pingIntervalMs: 0,
    });
    try {
      const c = client(srv.url, ["other", "chat"]);
      await c.opened;
      assert.equal(c.ws.protocol, "chat");
      const big = "repetitive text ".repeat(10_000);
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
      c.ws.send("héllo");
      c.ws.send(bytes);
      c.ws.send(big);
      c.ws.send("");
      await until(() => c.messages.length === 4, "4 echoes");
      assert.equal(c.messages[0], "héllo");
      assert.deepEqual(c.messages[1], bytes);
      assert.equal(c.messages[2], big);
      assert.equal(c.messages[3], "");
      const session = srv.sessions[0];
      console.log(`# ${runtime} client extensions: "${c.ws.extensions}" (server: "${session.extensions}")`);
      if (!deflate) assert.equal(session.extensions, "");
      c.ws.close(4001, "bye");
      const got = await c.closed;
      assert.equal(got.code, 4001);
      await until(() => closes.length === 1, "server close handler");
      assert.deepEqual(closes, ["4001:bye"]);
      assert.equal(session.messagesIn, 4);
    } finally {
      srv.close();
    }
  });
}

test(`${runtime} WebSocket client: server shutdown closes with 1001, handler runs once`, { timeout: 20_000 }, async () => {
  const closes: number[] = [];
  const srv = await wsServer({ close: (_ws, code) => void closes.push(code) }, null, { pingIntervalMs: 0 });
  try {
    const c = client(srv.url);
    await c.opened;
    await until(() => srv.sessions.length === 1, "session");
    srv.sessions[0].close(1001, "going away");
    const got = await c.closed;
    assert.equal(got.code, 1001);
    assert.equal(got.reason, "going away");
    await until(() => closes.length === 1, "server close handler");
    assert.deepEqual(closes, [1001]);
  } finally {
    srv.close();
  }
});

test(`${runtime} raw client: bytes after the upgrade head are the first frame; a client that stops reading meets the backpressure limit, then drain`, { timeout: 20_000 }, async () => {
  const limit = 1 << 20;
  const chunk = new Uint8Array(64 * 1024);
  const results: number[] = [];
  let maxBuffered = 0;
  let drains = 0;
  const srv = await wsServer<null>({
    message(ws, m) {
      if (m === "early") return void ws.send("got early");
      for (let i = 0; i < 10_000; i++) {
        const r = ws.send(chunk);
        results.push(r);
        maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        if (r === 0) break;
      }
    },
    drain: () => void drains++,
  }, null, { backpressureLimit: limit, pingIntervalMs: 0 });
  const sock = net.connect({ port: Number(new URL(srv.url).port), host: "127.0.0.1" });
  try {
    let received = 0;
    let text = "";
    sock.on("data", (b: Uint8Array) => {
      received += b.length;
      if (text.length < 4096) text += new TextDecoder("latin1").decode(b);
    });
    await new Promise<void>((r) => sock.once("connect", () => r()));
    const head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    sock.write(catAll(enc.encode(head), frame({ op: 1, payload: "early" })));
    await until(() => text.includes("got early"), "the echo of the pipelined frame");
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    sock.pause();
    sock.write(frame({ op: 1, payload: "flood" }));
    await until(() => results.length > 0, "the flood");
    assert.ok(results.includes(-1), "send reported backpressure");
    assert.equal(results.at(-1), 0, "send dropped at the limit");
    assert.ok(maxBuffered <= limit, `bufferedAmount ${maxBuffered} stayed within ${limit}`);
    sock.resume();
    await until(() => drains > 0, "drain");
    assert.equal(srv.sessions[0].bufferedAmount, 0);
    const sent = results.filter((r) => r !== 0).length * (chunk.length + 10);
    await until(() => received >= sent, "every queued byte");
  } finally {
    sock.destroy();
    srv.close();
  }
});
