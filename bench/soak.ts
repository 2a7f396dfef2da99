// A bounded soak of mixed faults (issue 10): an anyserve server child on RUNTIME, and for
// SECONDS (default 60) a mix of clients: keep-alive GETs, POSTs, handler errors (/throw),
// never-settling handlers (/hang, handlerTimeoutMs 2000), clients that reset mid-request,
// and pipeliners of 256 KiB responses that never read. At the end it checks the server
// holds nothing (in flight, queued, connections) and that stats.requests.errors equals the
// 500s clients saw, and prints RSS before/after. Run by hand:
//
//   node_modules/.bin/node bench/soak.ts [node|deno|bun] [--seconds 60] [--strategy slow_down]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = process.env.ROOT ?? path.resolve(HERE, "..");
const args = process.argv.slice(2);
const runtime = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a) && !["slow_down", "reject", "drop", "shed_load"].includes(a)) ?? "node";
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SECONDS = Math.min(Number(opt("seconds", "60")), 600);
const STRATEGY = opt("strategy", "slow_down");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SERVER = `
import { serve } from ${JSON.stringify(path.join(ROOT, "mod.ts"))};
console.error = () => {};
const big = new Uint8Array(256 * 1024).fill(98);
const server = serve({ port: 0, hostname: "127.0.0.1", overloadStrategy: ${JSON.stringify(STRATEGY)},
  maxInFlightRequests: 64, handlerTimeoutMs: 2000, fetch: async (req) => {
  const p = new URL(req.url).pathname;
  if (p === "/stats") return Response.json(server.stats());
  if (p === "/throw") throw new Error("soak");
  if (p === "/hang") return new Promise(() => {});
  if (p === "/big") return new Response(big);
  if (req.method === "POST") return new Response(String((await req.arrayBuffer()).byteLength));
  await new Promise((r) => setTimeout(r, 1));
  return new Response("ok");
} });
await server.ready;
console.log(server.port);
`;
const bin = path.join(HERE, "..", "node_modules/.bin", runtime);
const argv = runtime === "deno" ? ["eval", "--ext=ts", SERVER] : runtime === "bun" ? ["-e", SERVER] : ["--input-type=module-typescript", "-e", SERVER];
const child = spawn(bin, argv, { stdio: ["ignore", "pipe", "inherit"] });
const killer = setTimeout(() => child.kill("SIGKILL"), (SECONDS + 60) * 1000);
const port = await new Promise<number>((resolve) => child.stdout!.once("data", (b: Buffer) => resolve(Number(String(b).trim()))));
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) / 1024;

const seen = { ok: 0, s500: 0, s503: 0, other: 0, failed: 0, resets: 0, pipeliners: 0 };
/** One request on a fresh connection; counts the status it got. */
function once(input: string, resetAfterMs = -1): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    let text = "";
    const done = () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m === null) seen.failed++;
      else if (m[1] === "500") seen.s500++;
      else if (m[1] === "503") seen.s503++;
      else if (m[1][0] === "2") seen.ok++;
      else seen.other++;
      resolve();
    };
    s.on("data", (b: Buffer) => {
      text += b.toString("latin1");
      if (resetAfterMs < 0 && /\r\n\r\n/.test(text)) s.destroy();
    });
    s.on("error", () => {});
    s.on("close", () => (resetAfterMs >= 0 ? resolve() : done()));
    s.write(input);
    if (resetAfterMs >= 0) {
      seen.resets++;
      setTimeout(() => s.resetAndDestroy(), resetAfterMs);
    }
  });
}
const end = Date.now() + SECONDS * 1000;
await once("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n");
const rssBefore = rssMiB();
async function loop(kind: number): Promise<void> {
  while (Date.now() < end) {
    switch (kind) {
      case 0: await once("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); break;
      case 1: await once("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "p".repeat(1000)); break;
      case 2: await once("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"); break;
      case 3: await once("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"); break;
      case 4: await once("GET / HTTP/1.1\r\nHost: x\r\n\r\n", Math.floor(Math.random() * 3)); break;
      case 5: {
        // A pipeliner that never reads, for 3 s.
        seen.pipeliners++;
        const s = connect({ port, host: "127.0.0.1" });
        s.on("error", () => {});
        s.pause();
        s.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64));
        await sleep(3000);
        s.resetAndDestroy();
        break;
      }
    }
  }
}
const mix = [0, 0, 0, 0, 1, 1, 2, 3, 4, 4, 5, 5];
await Promise.all(mix.map(loop));
await sleep(4000); // past handlerTimeoutMs and a sweep
const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
const report = {
  runtime, strategy: STRATEGY, seconds: SECONDS, clientsSaw: seen,
  server: { errors: stats.requests.errors, inFlight: stats.requests.inFlight - 1, queued: stats.requests.queued, active: stats.connections.active - 1, timedOut: stats.connections.timedOut, total: stats.requests.total },
  errorsMatch500s: stats.requests.errors === seen.s500,
  rssBeforeMiB: +rssBefore.toFixed(1), rssAfterMiB: +rssMiB().toFixed(1),
};
console.log(JSON.stringify(report));
clearTimeout(killer);
child.kill("SIGKILL");
process.exit(report.errorsMatch500s && report.server.inFlight === 0 && report.server.queued === 0 ? 0 : 1);
