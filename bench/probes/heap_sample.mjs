// Bytes allocated per keep-alive request, by allocating function: V8's sampling heap profiler
// over the inspector, counting objects the collector already freed. Start the server with an
// inspector port first, then run this with Node:
//
//   PORT=3996 node_modules/.bin/deno run -A --inspect=127.0.0.1:9231 bench/servers/anyserve.ts &
//   DEPTH=1 node_modules/.bin/node bench/probes/heap_sample.mjs 9231 3996 50000 [top=40]
//
// It sends 30,000 requests to warm up, then samples over <requests> (bench/probes/fixed_client.mjs,
// 8 connections). DEPTH > 1 names each entry by its caller chain. Works for Node's --inspect too.
import WebSocket from "../../node_modules/ws/wrapper.mjs";
import { execFileSync } from "node:child_process";
const [ip, sp, nreq, topArg] = process.argv.slice(2);
const list = await (await fetch(`http://127.0.0.1:${ip}/json`)).json();
const ws = new WebSocket(list[0].webSocketDebuggerUrl);
await new Promise((r) => ws.on("open", r));
let id = 0; const waits = new Map();
ws.on("message", (m) => { const msg = JSON.parse(m); if (msg.id && waits.has(msg.id)) { waits.get(msg.id)(msg); waits.delete(msg.id); } });
const call = (method, params = {}) => new Promise((r) => { const i = ++id; waits.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
const load = (n) => execFileSync(process.execPath, [new URL("./fixed_client.mjs", import.meta.url).pathname, sp, String(n), "8"]);
load(30000);
await call("HeapProfiler.enable");
await call("HeapProfiler.startSampling", { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
load(Number(nreq));
const res = await call("HeapProfiler.stopSampling");
const prof = res.result.profile;
const self = new Map();
let total = 0;
const DEPTH = Number(process.env.DEPTH ?? 1);
const walk = (node, stack) => {
  const f = node.callFrame;
  const here = `${f.functionName || "(anon)"} ${f.url.replace(/^.*\/(node_modules\/)?/, "")}:${f.lineNumber + 1}`;
  const chain = [here, ...stack].slice(0, DEPTH);
  const name = chain.join(" < ");
  const sz = node.selfSize;
  if (sz > 0) { self.set(name, (self.get(name) ?? 0) + sz); total += sz; }
  for (const c of node.children) walk(c, [here, ...stack].slice(0, 6));
};
walk(prof.head, []);
console.log(`sampled ~${(total / Number(nreq)).toFixed(0)} B/req`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 40))) console.log(String((v / Number(nreq)).toFixed(0)).padStart(6), k);
ws.close();
