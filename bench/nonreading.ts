// Memory held for clients that pipeline and never read (issue 10, item 6): starts an anyserve
// server child on RUNTIME, opens CONNS connections that each send DEPTH pipelined
// `GET /` for SIZE-byte responses and read nothing, and reports the server's RSS growth
// (total and per connection) after SETTLE ms, and how many handlers ran.
//
//   node_modules/.bin/node bench/nonreading.ts [node|deno|bun] [--conns 20] [--depth 64] [--size 262144]
//   ROOT=/path/to/other/checkout node_modules/.bin/node bench/nonreading.ts node   # compare a build
//
// Bounded: the server is killed after at most SETTLE + 20 s. Loopback only.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = process.env.ROOT ?? path.resolve(HERE, "..");
const args = process.argv.slice(2);
const runtime = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a)) ?? "node";
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CONNS = opt("conns", 20);
const DEPTH = opt("depth", 64);
const SIZE = opt("size", 256 * 1024);
const SETTLE = opt("settle", 3000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SERVER = `
import { serve } from ${JSON.stringify(path.join(ROOT, "mod.ts"))};
let calls = 0;
const server = serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => {
  if (new URL(req.url).pathname === "/calls") return new Response(String(calls));
  calls++;
  return new Response(new Uint8Array(${SIZE}).fill(97));
} });
await server.ready;
console.log(server.port);
`;
const bin = path.join(HERE, "..", "node_modules/.bin", runtime);
const argv = runtime === "deno" ? ["eval", "--ext=ts", SERVER] : runtime === "bun" ? ["-e", SERVER] : ["--input-type=module-typescript", "-e", SERVER];
const child = spawn(bin, argv, { stdio: ["ignore", "pipe", "inherit"] });
const killer = setTimeout(() => child.kill("SIGKILL"), SETTLE + 20_000);
const port = await new Promise<number>((resolve) => child.stdout!.once("data", (b: Buffer) => resolve(Number(String(b).trim()))));
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]);

async function get(p: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return await r.text();
}
for (let i = 0; i < 20; i++) await get("/warm"); // warm up
await sleep(500);
const before = rssKiB();
const socks: Socket[] = [];
for (let i = 0; i < CONNS; i++) {
  const s = connect({ port, host: "127.0.0.1" });
  s.on("error", () => {});
  s.pause(); // read nothing (beyond Node's own 16 KiB readable buffer)
  s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(DEPTH));
  socks.push(s);
}
await sleep(SETTLE);
const after = rssKiB();
const calls = Number(await get("/calls")) - 20;
console.log(JSON.stringify({
  runtime, root: ROOT, conns: CONNS, depth: DEPTH, size: SIZE,
  rssBeforeMiB: +(before / 1024).toFixed(1), rssAfterMiB: +(after / 1024).toFixed(1),
  growthMiB: +((after - before) / 1024).toFixed(1), perConnMiB: +((after - before) / 1024 / CONNS).toFixed(2),
  handlersRun: calls, of: CONNS * DEPTH,
}));
for (const s of socks) s.destroy();
clearTimeout(killer);
child.kill("SIGKILL");
