// WebSocket bench: echo round trips, a broadcast to 1,000 sockets, and memory per idle socket,
// for anyserve (Bun-shaped API) on Node, Deno and Bun beside each runtime's usual choice:
// Bun.serve's websocket, Deno.upgradeWebSocket, @hono/node-server + ws. Client: the `ws` package
// on Node (this process). Loopback only; on a small shared machine the client's own cost is in
// every figure, so read them side by side, not as absolutes.
//
//   node_modules/.bin/node bench/ws_bench.ts [contender ...] [--seconds 3] [--conns 50] [--idle 10000]
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import WebSocket from "ws";

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const SECONDS = opt("seconds", 3);
const CONNS = opt("conns", 50);
const IDLE = opt("idle", 10_000);
const FANOUT = opt("fanout", 1000);
const BIN = "node_modules/.bin";
const CONTENDERS: Record<string, [string, string[]]> = {
  "anyserve-node": [`${BIN}/node`, ["anyserve"]],
  "node-ws": [`${BIN}/node`, ["node-ws"]],
  "anyserve-deno": [`${BIN}/deno`, ["anyserve"]],
  "deno-native": [`${BIN}/deno`, ["deno-native"]],
  "anyserve-bun": [`${BIN}/bun`, ["anyserve"]],
  "bun-native": [`${BIN}/bun`, ["bun-native"]],
};
const names = args.filter((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
const chosen = names.length > 0 ? names : Object.keys(CONTENDERS);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

async function start(name: string, port: number): Promise<ChildProcess> {
  const [bin, [kind]] = CONTENDERS[name];
  const argv = bin.endsWith("deno") ? ["run", "-A", "bench/servers/ws_echo.ts", kind, String(port)] : ["bench/servers/ws_echo.ts", kind, String(port)];
  const child = spawn(bin, argv, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (b) => String(b).includes("listening") && resolve());
    child.once("exit", (c) => reject(new Error(`${name} exited ${c}`)));
  });
  await sleep(300);
  return child;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

async function echo(url: string): Promise<number> {
  const socks = await Promise.all(Array.from({ length: CONNS }, () => open(url)));
  let count = 0;
  let running = true;
  const msg = "m".repeat(32);
  for (const s of socks) {
    s.on("message", () => {
      count++;
      if (running) s.send(msg);
    });
    s.send(msg);
  }
  await sleep(500); // warm-up
  const c0 = count;
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const n = count - c0;
  const ms = performance.now() - t0;
  running = false;
  for (const s of socks) s.terminate();
  return (n / ms) * 1000;
}

async function broadcast(url: string): Promise<number> {
  const socks: WebSocket[] = [];
  for (let i = 0; i < FANOUT; i += 100) socks.push(...await Promise.all(Array.from({ length: Math.min(100, FANOUT - i) }, () => open(url))));
  let got = 0;
  for (const s of socks) s.on("message", () => got++);
  await sleep(200);
  const rounds = 50;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const want = (r + 1) * FANOUT;
    socks[0].send("b");
    while (got < want) await sleep(1);
  }
  const ms = performance.now() - t0;
  for (const s of socks) s.terminate();
  return ((rounds * FANOUT) / ms) * 1000;
}

async function idle(url: string, pid: number): Promise<number> {
  await sleep(500);
  const before = rssKiB(pid);
  const socks: WebSocket[] = [];
  for (let i = 0; i < IDLE; i += 200) socks.push(...await Promise.all(Array.from({ length: Math.min(200, IDLE - i) }, () => open(url))));
  await sleep(1500);
  const after = rssKiB(pid);
  for (const s of socks) s.terminate();
  return (after - before) / IDLE;
}

let port = 4100;
console.log(`| server | echo round trips/s (${CONNS} sockets) | broadcast msgs/s (to ${FANOUT}) | KiB per idle WebSocket (${IDLE}) |`);
console.log("|---|---:|---:|---:|");
for (const name of chosen) {
  const p = port++;
  const child = await start(name, p);
  const url = `ws://127.0.0.1:${p}/`;
  try {
    const e = await echo(url);
    const b = await broadcast(url);
    const m = IDLE > 0 ? await idle(url, child.pid!) : NaN;
    console.log(`| ${name} | ${Math.round(e)} | ${Math.round(b)} | ${m.toFixed(2)} |`);
  } catch (err) {
    console.log(`| ${name} | error: ${(err as Error).message} | | |`);
  } finally {
    child.kill("SIGKILL");
    await sleep(300);
  }
}
