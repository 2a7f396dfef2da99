// In-process cost of the WebSocket core per message, without sockets: client frames go in as
// bytes, echoes come out as bytes. Shows what the frame parser + session + writer cost on each
// runtime, and the heap held per open idle session.
//
//   node_modules/.bin/node --expose-gc bench/ws_core_bench.ts      (or: deno run -A --v8-flags=--expose-gc / bun)
import { WebSocketSession } from "../src/ws/session.ts";
import type { Socket } from "../src/ws/seam.ts";
import { frame } from "../test/helpers/ws_frames.ts";

const N = 1_000_000;

class FakeSocket implements Socket {
  remoteAddress = "127.0.0.1";
  remotePort = 40000;
  localAddress = "127.0.0.1";
  localPort = 3000;
  written = 0;
  start() {}
  write(b: Uint8Array) {
    this.written += b.length;
    return true;
  }
  pause() {}
  resume() {}
  end() {}
  destroy() {}
}

function echoRun(size: number, perRead: number): number {
  const sock = new FakeSocket();
  const ws = new WebSocketSession({ message: (ws, m) => void ws.send(m) }, null, {}, { pingIntervalMs: 0 });
  const ev = ws.attach(sock, new Uint8Array(0));
  const one = frame({ op: 1, payload: "x".repeat(size) });
  const batch = new Uint8Array(one.length * perRead);
  for (let i = 0; i < perRead; i++) batch.set(one, i * one.length);
  const reads = Math.ceil(N / perRead);
  const t0 = performance.now();
  for (let i = 0; i < reads; i++) ev.data(batch.slice()); // a fresh read each time, as a socket delivers
  const ms = performance.now() - t0;
  if (ws.messagesIn !== reads * perRead) throw new Error("lost messages");
  return (reads * perRead) / (ms / 1000);
}

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  const p = (globalThis as { process?: { memoryUsage(): { heapUsed: number } } }).process;
  return p ? p.memoryUsage().heapUsed : 0;
}

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
// Memory first: measured after the echo runs, the figure also holds what their JIT and slabs left.
// Sessions alone (the socket is the transport's, counted with the connection).
const sock = new FakeSocket();
const keep: WebSocketSession<null>[] = [];
const before = heap();
for (let i = 0; i < 10_000; i++) {
  const ws = new WebSocketSession<null>({}, null, {}, {});
  ws.attach(sock, new Uint8Array(0));
  keep.push(ws);
}
const after = heap();
console.log(`${runtime} heap per idle session (${keep.length}, gc ${gc ? "forced" : "not exposed"}): ${((after - before) / keep.length).toFixed(0)} B`);
for (const [size, perRead] of [[16, 1], [16, 16], [1024, 1]] as const) {
  echoRun(size, perRead); // warm-up
  const rate = echoRun(size, perRead);
  console.log(`${runtime} echo ${size} B text, ${perRead} per read: ${(rate / 1e6).toFixed(2)} M msg/s`);
}
