/**
 * The three WebSocket APIs through the real server on this runtime, over
 * real sockets on 127.0.0.1: Hono's `upgradeWebSocket` (anyserve/hono),
 * Bun's shape (`websocket` option + `env.upgrade` / `server.upgrade`,
 * topics), and the Deno-like `upgradeWebSocket(request)`; each with the
 * runtime's built-in `WebSocket` client and the `ws` package. Also: fields
 * from middleware on the 101, the RFC's 426/400 answers, the limit at
 * upgrade time (503), statistics, shutdown with open sockets, and
 * backpressure both ways.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { setCookie } from "hono/cookie";
import WsClient from "ws";
import type { Server, ServeOptions } from "../../mod.ts";
import { toPrometheus, upgradeWebSocket as plainUpgrade } from "../../mod.ts";
import { upgradeWebSocket } from "../../src/hono.ts";
import type { WebSocketSession } from "../../src/ws/session.ts";
import { cat, frame } from "../helpers/ws_frames.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const { serve } = runtime === "bun"
  ? await import("../../adapters/bun.ts")
  : runtime === "deno"
  ? await import("../../adapters/deno.ts")
  : await import("../../adapters/node.ts");
const enc = new TextEncoder();

async function start(options: Omit<ServeOptions, "port" | "hostname">): Promise<Server & { wsUrl: string }> {
  const server = serve({ port: 0, hostname: "127.0.0.1", ...options } as ServeOptions);
  await server.ready;
  return Object.assign(server, { wsUrl: `ws://127.0.0.1:${server.port}` });
}

async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Client {
  ws: WebSocket;
  messages: (string | Uint8Array)[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

function client(url: string, protocols?: string[]): Client {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const messages: (string | Uint8Array)[] = [];
  ws.onmessage = (e) => messages.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("client error before open"));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
  return { ws, messages, opened, closed };
}

/** The `ws` package as a client: echo round trip, then close; returns what it got. */
async function wsPackageEcho(url: string): Promise<{ text: string; binary: Uint8Array; code: number }> {
  const c = new WsClient(url);
  const got: (string | Uint8Array)[] = [];
  c.on("message", (d: Buffer, isBinary: boolean) => got.push(isBinary ? new Uint8Array(d) : d.toString()));
  await new Promise<void>((resolve, reject) => {
    c.once("open", () => resolve());
    c.once("error", reject);
  });
  c.send("from ws");
  c.send(new Uint8Array([1, 2, 3, 250]));
  await until(() => got.length >= 2, "ws echoes");
  const closed = new Promise<number>((r) => c.once("close", (code: number) => r(code)));
  c.close(1000);
  return { text: got[0] as string, binary: got[1] as Uint8Array, code: await closed };
}

/** Sends a raw upgrade head and returns the response head (and the socket, open). */
async function rawUpgrade(port: number, fields: string, extra?: Uint8Array): Promise<{ head: string; sock: net.Socket; rest: () => string }> {
  const sock = net.connect({ port, host: "127.0.0.1" });
  sock.on("error", () => {}); // a reset after the test is done with it
  await new Promise<void>((r) => sock.once("connect", () => r()));
  let text = "";
  sock.on("data", (b: Uint8Array) => (text += new TextDecoder("latin1").decode(b)));
  const head = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n${fields}\r\n`;
  sock.write(extra ? cat(enc.encode(head), extra) : head);
  await until(() => text.includes("\r\n\r\n"), "the response head");
  const end = text.indexOf("\r\n\r\n") + 4;
  return { head: text.slice(0, end), sock, rest: () => text.slice(end) };
}

const HANDSHAKE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

// ---- Hono ------------------------------------------------------------------

function honoApp(log: string[]) {
  const app = new Hono();
  app.use("*", cors({ origin: "https://app.example" }));
  app.use("*", secureHeaders());
  app.use("/ws", async (c, next) => {
    setCookie(c, "session", "abc");
    await next();
  });
  app.get(
    "/ws",
    upgradeWebSocket((c) => ({
      onOpen(_e, ws) {
        log.push(`open ${ws.readyState} ${ws.protocol} ${ws.url?.pathname} ${c.req.query("x") ?? ""}`);
      },
      onMessage(e, ws) {
        if (typeof e.data === "string") ws.send(`echo: ${e.data}`);
        else ws.send(new Uint8Array(e.data as ArrayBuffer));
      },
      onClose(e, ws) {
        log.push(`close ${e.code} ${e.reason} ${ws.readyState}`);
      },
    })),
  );
  app.get("/", (c) => c.text("http"));
  return app;
}

test(`${runtime} Hono upgradeWebSocket: built-in client echo, subprotocol, close code; ws package; HTTP still served`, { timeout: 30_000 }, async () => {
  const log: string[] = [];
  const server = await start({ fetch: honoApp(log).fetch });
  try {
    const c = client(`${server.wsUrl}/ws?x=1`, ["chat", "other"]);
    await c.opened;
    assert.equal(c.ws.protocol, "chat");
    c.ws.send("hi");
    c.ws.send(new Uint8Array([9, 8, 7]));
    await until(() => c.messages.length === 2, "two echoes");
    assert.equal(c.messages[0], "echo: hi");
    assert.deepEqual(c.messages[1], new Uint8Array([9, 8, 7]));
    c.ws.close(4000, "done");
    assert.equal((await c.closed).code, 4000);
    await until(() => log.length === 2, "close event");
    assert.deepEqual(log, ["open 1 chat /ws 1", "close 4000 done 3"]);

    const viaWs = await wsPackageEcho(`${server.wsUrl}/ws`);
    assert.equal(viaWs.text, "echo: from ws");
    assert.deepEqual(viaWs.binary, new Uint8Array([1, 2, 3, 250]));
    assert.equal(viaWs.code, 1000);

    const r = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await r.text(), "http");
  } finally {
    await server.close();
  }
});

test(`${runtime} Hono upgradeWebSocket: fields set by middleware (cors, secureHeaders, cookies) are on the 101; 426 and 400 for bad handshakes`, { timeout: 30_000 }, async () => {
  const server = await start({ fetch: honoApp([]).fetch });
  try {
    const ok = await rawUpgrade(server.port, HANDSHAKE + "Sec-WebSocket-Version: 13\r\nOrigin: https://app.example\r\n");
    ok.sock.destroy();
    assert.match(ok.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(ok.head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    assert.match(ok.head, /\r\naccess-control-allow-origin: https:\/\/app\.example\r\n/i);
    assert.match(ok.head, /\r\nx-content-type-options: nosniff\r\n/i);
    assert.match(ok.head, /\r\nset-cookie: session=abc/i);
    assert.equal(ok.head.match(/\r\nconnection:/gi)?.length, 1, "one Connection field");
    assert.doesNotMatch(ok.head, /content-length|transfer-encoding/i);

    const v12 = await rawUpgrade(server.port, HANDSHAKE + "Sec-WebSocket-Version: 12\r\n");
    v12.sock.destroy();
    assert.match(v12.head, /^HTTP\/1\.1 426 /);
    assert.match(v12.head, /\r\nsec-websocket-version: 13\r\n/i);
    const noKey = await rawUpgrade(server.port, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
    noKey.sock.destroy();
    assert.match(noKey.head, /^HTTP\/1\.1 400 /);
  } finally {
    await server.close();
  }
});

// ---- Bun's shape -------------------------------------------------------------

test(`${runtime} Bun shape: env.upgrade with data and headers, fetch returning undefined, topics, server.publish; server.upgrade too`, { timeout: 30_000 }, async () => {
  const closes: string[] = [];
  let server!: Server & { wsUrl: string };
  server = await start({
    fetch(req, env) {
      const url = new URL(req.url);
      if (url.pathname === "/env") {
        if (env.upgrade(req, { data: { name: url.searchParams.get("name") }, headers: { "X-Hello": "world" } })) return;
        return new Response("Upgrade failed", { status: 500 });
      }
      if (url.pathname === "/server") {
        if (server.upgrade(req, { data: { name: "srv" } })) return;
        return new Response("Upgrade failed", { status: 500 });
      }
      if (url.pathname === "/publish") {
        return new Response(String(env.publish("room", "from http")));
      }
      return new Response("not found", { status: 404 });
    },
    websocket: {
      open(ws: WebSocketSession<{ name: string }>) {
        ws.subscribe("room");
        ws.send(`hello ${ws.data.name} ${ws.isSubscribed("room")}`);
      },
      message(ws: WebSocketSession<{ name: string }>, m: string | Uint8Array) {
        ws.publish("room", `${ws.data.name}: ${m}`);
      },
      close(ws: WebSocketSession<{ name: string }>, code: number) {
        closes.push(`${ws.data.name} ${code}`);
      },
    },
  });
  try {
    const a = client(`${server.wsUrl}/env?name=a`);
    const b = client(`${server.wsUrl}/server`);
    await Promise.all([a.opened, b.opened]);
    await until(() => a.messages.length === 1 && b.messages.length === 1, "greetings");
    assert.equal(a.messages[0], "hello a true");
    assert.equal(b.messages[0], "hello srv true");
    assert.equal(server.subscriberCount("room"), 2);
    a.ws.send("x");
    await until(() => b.messages.length === 2, "publish to b");
    assert.equal(b.messages[1], "a: x");
    const r = await fetch(`http://127.0.0.1:${server.port}/publish`);
    assert.equal(await r.text() !== "0", true);
    await until(() => a.messages.length === 2 && b.messages.length === 3, "server publish");
    assert.equal(a.messages[1], "from http");
    assert.equal(b.messages[2], "from http");
    assert.equal(a.messages.length, 2, "ws.publish skips the publisher");
    assert.equal(server.publish("room", new Uint8Array([1, 2])) !== 0, true);
    await until(() => a.messages.length === 3, "binary publish");
    assert.deepEqual(a.messages[2], new Uint8Array([1, 2]));

    const s = server.stats().webSockets;
    assert.equal(s.open, 2);
    assert.equal(s.total, 2);
    assert.ok(s.messagesIn >= 1 && s.messagesOut >= 6, JSON.stringify(s));
    assert.ok(s.bytesIn > 0 && s.bytesOut > 0);
    assert.match(toPrometheus(server.stats()), /anyserve_websockets_open 2\n/);

    a.ws.close();
    await a.closed;
    await until(() => server.subscriberCount("room") === 1, "unsubscribed on close");
    b.ws.close(4001);
    await b.closed;
    await until(() => closes.length === 2, "close handlers");
    // a closed without a code: its close frame is empty, which reads as 1005 (RFC 6455 §7.1.5).
    assert.deepEqual(closes.sort(), ["a 1005", "srv 4001"]);
    assert.equal(server.stats().webSockets.open, 0);
  } finally {
    await server.close();
  }
});

test(`${runtime} Bun shape: the 101 carries upgrade()'s headers; a refused handshake gets 426/400 over the app's 500; the ws package`, { timeout: 30_000 }, async () => {
  const server = await start({
    fetch(req, env) {
      if (env.upgrade(req, { headers: { "X-Hello": "world", "Set-Cookie": "k=v" } })) return undefined;
      return new Response("Upgrade failed", { status: 500 });
    },
    websocket: { message: (ws, m) => void ws.send(m) },
  });
  try {
    const ok = await rawUpgrade(server.port, HANDSHAKE + "Sec-WebSocket-Version: 13\r\n");
    ok.sock.destroy();
    assert.match(ok.head, /^HTTP\/1\.1 101 /);
    assert.match(ok.head, /\r\nx-hello: world\r\n/i);
    assert.match(ok.head, /\r\nset-cookie: k=v\r\n/i);
    const v8 = await rawUpgrade(server.port, HANDSHAKE + "Sec-WebSocket-Version: 8\r\n");
    v8.sock.destroy();
    assert.match(v8.head, /^HTTP\/1\.1 426 /);
    assert.match(v8.head, /\r\nsec-websocket-version: 13\r\n/i);
    const post = await rawUpgrade(server.port, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n");
    post.sock.destroy();
    assert.match(post.head, /^HTTP\/1\.1 400 /);
    const viaWs = await wsPackageEcho(server.wsUrl);
    assert.equal(viaWs.text, "from ws");
    assert.deepEqual(viaWs.binary, new Uint8Array([1, 2, 3, 250]));
  } finally {
    await server.close();
  }
});

test(`${runtime} Bun shape: over websocket.maxWebSockets the upgrade is answered 503`, { timeout: 30_000 }, async () => {
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("no", { status: 500 })),
    websocket: { maxWebSockets: 1, message() {} },
  });
  try {
    const a = client(server.wsUrl);
    await a.opened;
    const second = await rawUpgrade(server.port, HANDSHAKE + "Sec-WebSocket-Version: 13\r\n");
    second.sock.destroy();
    assert.match(second.head, /^HTTP\/1\.1 503 /);
    assert.match(second.head, /\r\nretry-after: 1\r\n/i);
    assert.equal(server.stats().webSockets.refused, 1);
    a.ws.close();
    await a.closed;
  } finally {
    await server.close();
  }
});

// ---- Deno-like -----------------------------------------------------------------

test(`${runtime} Deno-like upgradeWebSocket(request): WHATWG-shaped socket with the built-in client and the ws package`, { timeout: 30_000 }, async () => {
  const events: string[] = [];
  const server = await start({
    fetch(req) {
      if (req.headers.get("upgrade") !== "websocket") return new Response("plain");
      const { socket, response } = plainUpgrade(req, { protocol: "json" });
      events.push(`state ${socket.readyState}`);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => events.push(`open ${socket.readyState} ${socket.protocol} ${new URL(socket.url).protocol}`);
      socket.addEventListener("message", (e) => {
        const d = (e as MessageEvent).data;
        socket.send(typeof d === "string" ? d.toUpperCase() : d);
        events.push(`buffered ${typeof socket.bufferedAmount}`);
      });
      socket.onclose = (e) => events.push(`close ${e.code} ${e.reason} ${e.wasClean}`);
      return response;
    },
    // The refused handshake below throws (as Deno's does); the client still gets the 426.
    onError: () => new Response("refused", { status: 500 }),
  });
  try {
    const c = client(server.wsUrl, ["json"]);
    await c.opened;
    assert.equal(c.ws.protocol, "json");
    c.ws.send("abc");
    c.ws.send(new Uint8Array([5, 6]));
    await until(() => c.messages.length === 2, "echoes");
    assert.equal(c.messages[0], "ABC");
    assert.deepEqual(c.messages[1], new Uint8Array([5, 6]));
    c.ws.close(3001, "bye");
    await c.closed;
    await until(() => events.some((e) => e.startsWith("close")), "close event");
    assert.deepEqual(events, ["state 0", "open 1 json ws:", "buffered number", "buffered number", "close 3001 bye true"]);
    const viaWs = await wsPackageEcho(server.wsUrl);
    assert.equal(viaWs.text, "FROM WS");
    assert.deepEqual(viaWs.binary, new Uint8Array([1, 2, 3, 250]));
    const bad = await rawUpgrade(server.port, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 7\r\n" + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    bad.sock.destroy();
    assert.match(bad.head, /^HTTP\/1\.1 426 /);
  } finally {
    await server.close({ deadlineMs: 2000 });
  }
});

// ---- shutdown ----------------------------------------------------------------------

test(`${runtime} server.close() with open WebSockets: every client sees 1001, close() reports them; a peer that never answers is cut at the deadline`, { timeout: 30_000 }, async () => {
  const closes: number[] = [];
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("no", { status: 500 })),
    websocket: { message() {}, close: (_ws, code) => void closes.push(code) },
    onError: () => new Response("err", { status: 500 }),
  });
  const clients = Array.from({ length: 5 }, () => client(server.wsUrl));
  await Promise.all(clients.map((c) => c.opened));
  // A raw peer that completes the handshake and then never answers the close.
  const mute = await rawUpgrade(server.port, HANDSHAKE + "Sec-WebSocket-Version: 13\r\n");
  await until(() => server.stats().webSockets.open === 6, "6 open");
  const t0 = Date.now();
  const summary = await server.close({ deadlineMs: 1500 });
  const took = Date.now() - t0;
  const codes = await Promise.all(clients.map((c) => c.closed));
  for (const c of codes) assert.equal(c.code, 1001);
  assert.match(mute.rest(), /\x03\xe9server shutting down/, "the mute peer got a 1001 close frame");
  mute.sock.destroy();
  assert.deepEqual(summary.webSockets, { closed: 5, cut: 1 });
  assert.ok(took < 10_000, `close() took ${took} ms, bounded by its deadline`);
  assert.equal(closes.length, 6);
  assert.equal(closes.filter((c) => c === 1001).length, 5);
});

// ---- backpressure ------------------------------------------------------------------

test(`${runtime} backpressure: a client that never reads meets backpressureLimit (sends dropped, memory bounded), then drains`, { timeout: 30_000 }, async () => {
  const limit = 1 << 20;
  const chunk = new Uint8Array(64 * 1024);
  let results: number[] = [];
  let maxBuffered = 0;
  let drains = 0;
  let session: WebSocketSession | null = null;
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("no", { status: 500 })),
    websocket: {
      backpressureLimit: limit,
      open: (ws) => void (session = ws),
      message(ws) {
        results = [];
        for (let i = 0; i < 10_000; i++) {
          const r = ws.send(chunk);
          results.push(r);
          maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
          if (r === 0) break;
        }
      },
      drain: () => void drains++,
    },
  });
  const sock = net.connect({ port: server.port, host: "127.0.0.1" });
  try {
    let received = 0;
    sock.on("data", (b: Uint8Array) => (received += b.length));
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.write(`GET / HTTP/1.1\r\nHost: x\r\n${HANDSHAKE}Sec-WebSocket-Version: 13\r\n\r\n`);
    await until(() => session !== null && received > 0, "open");
    sock.pause();
    sock.write(frame({ op: 1, payload: "flood" }));
    await until(() => results.length > 0, "the flood");
    assert.ok(results.includes(-1), "send reported backpressure");
    assert.equal(results.at(-1), 0, "send dropped at the limit");
    assert.ok(maxBuffered <= limit, `bufferedAmount ${maxBuffered} stayed within ${limit}`);
    sock.resume();
    await until(() => drains > 0, "drain");
    assert.equal(session!.bufferedAmount, 0);
  } finally {
    sock.destroy();
    await server.close({ deadlineMs: 1000 });
  }
});

test(`${runtime} backpressure: a client that floods while an ordered handler is slow is read one message at a time, in order`, { timeout: 30_000 }, async () => {
  let running = 0;
  let maxRunning = 0;
  const seen: number[] = [];
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("no", { status: 500 })),
    websocket: {
      ordered: true,
      async message(ws, m) {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 2));
        seen.push(Number(m));
        running--;
        if (seen.length === 200) ws.send("done");
      },
    },
  });
  try {
    const c = client(server.wsUrl);
    await c.opened;
    for (let i = 0; i < 200; i++) c.ws.send(String(i));
    await until(() => c.messages.includes("done"), "all 200 handled", 20_000);
    assert.equal(maxRunning, 1, "one handler at a time");
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
    c.ws.close();
    await c.closed;
  } finally {
    await server.close({ deadlineMs: 1000 });
  }
});

// ---- hono/bun, compression -----------------------------------------------------------

test(`${runtime} hono/bun's upgradeWebSocket and websocket run unchanged on anyserve`, {
  timeout: 30_000,
  skip: runtime !== "bun" && "hono/bun reads the global Bun when it loads: Bun only (elsewhere, import upgradeWebSocket from anyserve/hono)",
}, async () => {
  const { upgradeWebSocket: bunUpgrade, websocket } = await import("hono/bun");
  const log: string[] = [];
  const app = new Hono();
  app.get(
    "/ws",
    bunUpgrade(() => ({
      onOpen: (_e, ws) => void log.push(`open ${ws.readyState}`),
      onMessage(e, ws) {
        ws.send(typeof e.data === "string" ? `bun: ${e.data}` : new Uint8Array(e.data as ArrayBuffer));
      },
      onClose: (e) => void log.push(`close ${e.code}`),
    })),
  );
  const server = await start({ fetch: app.fetch, websocket: websocket as never });
  try {
    const c = client(`${server.wsUrl}/ws`);
    await c.opened;
    c.ws.send("hi");
    c.ws.send(new Uint8Array([4, 2]));
    await until(() => c.messages.length === 2, "echoes");
    assert.equal(c.messages[0], "bun: hi");
    assert.deepEqual(c.messages[1], new Uint8Array([4, 2]));
    c.ws.close(1000);
    await c.closed;
    await until(() => log.length === 2, "close");
    assert.deepEqual(log, ["open 1", "close 1000"]);
  } finally {
    await server.close();
  }
});

test(`${runtime} perMessageDeflate: negotiated with the ws package and the built-in client, messages round-trip compressed`, { timeout: 30_000 }, async () => {
  const extensions: string[] = [];
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("no", { status: 500 })),
    websocket: {
      perMessageDeflate: true,
      open: (ws) => void extensions.push(ws.extensions),
      message: (ws, m) => void ws.send(m),
    },
  });
  try {
    const big = "compressible ".repeat(5000);
    const c = new WsClient(server.wsUrl, { perMessageDeflate: true });
    const got: string[] = [];
    c.on("message", (d: Buffer) => got.push(d.toString()));
    await new Promise<void>((resolve, reject) => {
      c.once("open", () => resolve());
      c.once("error", reject);
    });
    c.send(big);
    c.send("short");
    await until(() => got.length === 2, "compressed echoes");
    assert.equal(got[0], big);
    assert.equal(got[1], "short");
    assert.match(extensions[0], /^permessage-deflate/);
    const st = server.stats().webSockets;
    assert.ok(st.bytesIn < big.length, `compressed on the wire: ${st.bytesIn} bytes in for ${big.length} of text`);
    c.close();
    const b = client(server.wsUrl);
    await b.opened;
    b.ws.send(big);
    await until(() => b.messages.length === 1, "built-in client echo");
    assert.equal(b.messages[0], big);
    console.log(`# ${runtime} built-in client extensions: "${b.ws.extensions}"`);
    b.ws.close();
    await b.closed;
  } finally {
    await server.close({ deadlineMs: 2000 });
  }
});

test(`${runtime} Bun shape: upgrade() on a request that is not a WebSocket handshake leaves the handler's answer alone`, { timeout: 30_000 }, async () => {
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("plain answer")),
    websocket: { message() {} },
  });
  try {
    const h2c = await rawUpgrade(server.port, "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n");
    h2c.sock.destroy();
    assert.match(h2c.head, /^HTTP\/1\.1 200 /);
    const r = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await r.text(), "plain answer");
  } finally {
    await server.close();
  }
});

test(`${runtime} websocket options reach every socket: idleTimeout closes a quiet one with 1001, maxPayloadLength answers 1009`, { timeout: 30_000 }, async () => {
  const server = await start({
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("no", { status: 500 })),
    websocket: { idleTimeout: 1, sendPings: false, maxPayloadLength: 1000, message: (ws, m) => void ws.send(m) },
  });
  try {
    const quiet = client(server.wsUrl);
    const big = client(server.wsUrl);
    await Promise.all([quiet.opened, big.opened]);
    big.ws.send("y".repeat(1001));
    assert.equal((await big.closed).code, 1009);
    const q = await quiet.closed;
    assert.equal(q.code, 1001);
    assert.equal(q.reason, "idle timeout");
  } finally {
    await server.close({ deadlineMs: 1000 });
  }
});
