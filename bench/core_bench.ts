// In-process cost of the core per request, without sockets or syscalls: a fake transport hands
// the server an in-memory socket; requests go in as bytes, responses come out as bytes. Shows
// what the parser + bridge + writer + the handler cost on each runtime.
//
//   node_modules/.bin/node bench/core_bench.ts      (or: deno run -A / bun)
import { Hono } from "hono";
import { serveWith } from "../src/serve.ts";
import type { Socket, SocketEvents, Transport } from "../src/socket.ts";

const N = Number((globalThis as { process?: { env: Record<string, string> } }).process?.env?.N ?? 200_000);

class FakeSocket implements Socket {
  remoteAddress = "127.0.0.1";
  remotePort = 40000;
  localAddress = "127.0.0.1";
  localPort = 3000;
  events!: SocketEvents;
  written = 0;
  onWrite: (() => void) | null = null;
  start(e: SocketEvents) {
    this.events = e;
  }
  write(b: Uint8Array) {
    this.written += b.length;
    this.onWrite?.();
    return true;
  }
  pause() {}
  resume() {}
  end() {}
  destroy() {}
}

let accept!: (s: Socket) => void;
const transport: Transport = {
  runtime: "bench",
  listen(_o, onSocket) {
    accept = onSocket;
    return Promise.resolve({ address: { hostname: "127.0.0.1", port: 3000 }, close() {} });
  },
};

const app = new Hono();
app.get("/", (c) => c.text("Hello, World!"));
app.get("/user/:id", (c) => c.text(`User ${c.req.param("id")}`));
const staticBody = (globalThis as { Deno?: unknown }).Deno ? (await import("../adapters/deno.ts")).denoTransport.staticBody : undefined;
if (staticBody) transport.staticBody = staticBody;
if ((globalThis as { Bun?: unknown }).Bun) {
  const bun = (await import("../adapters/bun.ts")).bunTransport;
  transport.peek = bun.peek;
  transport.impliedType = bun.impliedType;
}
// HANDLER=null: a bare handler with an empty body, to see the core's own cost.
// HANDLER=plain: a bare handler returning a small text body, without Hono.
const handlerKind = (globalThis as { process?: { env: Record<string, string> } }).process?.env?.HANDLER;
const fetch = handlerKind === "null" ? () => new Response(null) : handlerKind === "plain" ? () => new Response("Hello, World!") : app.fetch;
const server = serveWith(transport, { fetch, port: 0 });
await server.ready;
const socket = new FakeSocket();
accept(socket);

const one = new TextEncoder().encode("GET /user/123 HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n");
const sixteen = new Uint8Array(one.length * 16);
for (let i = 0; i < 16; i++) sixteen.set(one, i * one.length);

async function run(label: string, chunk: Uint8Array, perChunk: number) {
  const rounds = Math.floor(N / perChunk);
  let waiting = 0;
  let wake: (() => void) | null = null;
  socket.onWrite = () => {
    if (--waiting <= 0 && wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    waiting = 1; // one write per read: responses are batched
    const done = new Promise<void>((res) => (wake = res));
    socket.events.data(chunk.slice());
    await done;
  }
  const ns = ((performance.now() - t0) * 1e6) / (rounds * perChunk);
  console.log(`${label}: ${ns.toFixed(0)} ns/request (${(1e9 / ns / 1000).toFixed(0)}k req/s on one core, no I/O)`);
}

await run("keep-alive (1 request per read)", one, 1);
await run("pipelined (16 per read)", sixteen, 16);
await run("keep-alive (1 request per read)", one, 1);
await run("pipelined (16 per read)", sixteen, 16);
await server.close({ deadlineMs: 10 });
(globalThis as { process?: { exit(c: number): void } }).process?.exit(0);
(globalThis as { Deno?: { exit(c: number): void } }).Deno?.exit(0);
