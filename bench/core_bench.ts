// In-process cost of the core per request, without sockets or syscalls: a fake transport hands
// the server an in-memory socket; requests go in as bytes, responses come out as bytes. Shows
// what the parser + bridge + writer + the handler cost on each runtime.
//
//   node_modules/.bin/node bench/core_bench.ts      (or: deno run -A / bun)
//   Env: N (requests), HANDLER=null|plain (default: the Hono app), LIGHT=1 (lightweightGlobals)
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
if ((globalThis as { Deno?: unknown }).Deno) {
  const deno = (await import("../adapters/deno.ts")).denoTransport;
  if (deno.staticBody) transport.staticBody = deno.staticBody;
  if (deno.makeRequest) transport.makeRequest = deno.makeRequest;
  if (deno.responseFields) transport.responseFields = deno.responseFields;
}
if ((globalThis as { Bun?: unknown }).Bun) {
  const bun = (await import("../adapters/bun.ts")).bunTransport;
  transport.peek = bun.peek;
  transport.impliedType = bun.impliedType;
}
// HANDLER=null: a bare handler with an empty body, to see the core's own cost.
// HANDLER=plain: a bare handler returning a small text body, without Hono.
const handlerKind = (globalThis as { process?: { env: Record<string, string> } }).process?.env?.HANDLER;
const fetch = handlerKind === "null" ? () => new Response(null) : handlerKind === "plain" ? () => new Response("Hello, World!") : app.fetch;
// LIGHT=1: with the lightweightGlobals opt-in (src/fetch/light.ts).
const light = (globalThis as { process?: { env: Record<string, string> } }).process?.env?.LIGHT === "1";
const server = serveWith(transport, { fetch, port: 0, lightweightGlobals: light });
await server.ready;
const socket = new FakeSocket();
accept(socket);

const one = new TextEncoder().encode("GET /user/123 HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n");
const sixteen = new Uint8Array(one.length * 16);
for (let i = 0; i < 16; i++) sixteen.set(one, i * one.length);

// A real server gets each read in a task of its own, and the runtime clears
// what a task kept alive (WeakRef targets, FinalizationRegistry callbacks,
// which undici's Request uses) between tasks. A chain of awaits never leaves
// one task, so yield to the event loop every YIELD_EVERY rounds (a
// MessageChannel message: a task on every runtime, cheap; its time counts).
const YIELD_EVERY = 64;
const channel = new MessageChannel();
let resumeTask: (() => void) | null = null;
channel.port1.onmessage = () => resumeTask?.();
const nextTask = () => new Promise<void>((res) => {
  resumeTask = res;
  channel.port2.postMessage(0);
});

/** Process CPU time (user + system) in µs; `process.cpuUsage` exists on Node, Deno and Bun. */
function cpuMicros(): number {
  const u = (globalThis as { process?: { cpuUsage(): { user: number; system: number } } }).process?.cpuUsage();
  return u === undefined ? 0 : u.user + u.system;
}

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
  // CPU time too: on a shared machine the wall clock also counts other processes' turns.
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    if (r % YIELD_EVERY === YIELD_EVERY - 1) await nextTask();
    waiting = 1; // one write per read: responses are batched
    const done = new Promise<void>((res) => (wake = res));
    socket.events.data(chunk.slice());
    await done;
  }
  const ns = ((performance.now() - t0) * 1e6) / (rounds * perChunk);
  const cpuNs = ((cpuMicros() - cpu0) * 1e3) / (rounds * perChunk);
  console.log(`${label}: ${ns.toFixed(0)} ns/request (${(1e9 / ns / 1000).toFixed(0)}k req/s on one core, no I/O); CPU ${cpuNs.toFixed(0)} ns/request`);
}

await run("keep-alive (1 request per read)", one, 1);
await run("pipelined (16 per read)", sixteen, 16);
await run("keep-alive (1 request per read)", one, 1);
await run("pipelined (16 per read)", sixteen, 16);
channel.port1.close();
await server.close({ deadlineMs: 10 });
(globalThis as { process?: { exit(c: number): void } }).process?.exit(0);
(globalThis as { Deno?: { exit(c: number): void } }).Deno?.exit(0);
