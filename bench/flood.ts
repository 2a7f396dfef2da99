// Overload flood: for each strategy, start bench/servers/flood_server.ts (Node 24, pinned to
// CPU 1), open CONNS connections (default 1000, twice its maxConnections) that each pipeline
// PER (default 20) requests, and count what came back: 200 (admitted), 503 (refused), and
// requests with no response at all (lost; must be 0 for every connection the server accepted).
// Reports the server's peak RSS. Loopback only; bounded by a 60 s timeout per strategy.
//
//   node_modules/.bin/node bench/flood.ts [reject drop slow_down shed_load]
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { readFileSync } from "node:fs";

const strategies = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["reject", "drop", "slow_down", "shed_load"];
const CONNS = Number(process.env.CONNS ?? 1000);
const PER = Number(process.env.PER ?? 20);
const PORT = Number(process.env.PORT ?? 3990);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface Tally { ok: number; refused: number; other: number; lost: number; connRefused: number }

function client(i: number): Promise<Tally> {
  return new Promise((resolve) => {
    const t: Tally = { ok: 0, refused: 0, other: 0, lost: 0, connRefused: 0 };
    const s = connect({ port: PORT, host: "127.0.0.1" });
    let text = "";
    const prio = i % 10 === 0 ? "X-Priority: high\r\n" : "";
    let reqs = "";
    for (let k = 0; k < PER; k++) reqs += `GET /${i}/${k} HTTP/1.1\r\nHost: a\r\n${prio}${k === PER - 1 ? "Connection: close\r\n" : ""}\r\n`;
    const done = () => {
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      const closesAtOnce = statuses.length === 1 && statuses[0] === 503 && /connection: close/i.test(text);
      if (closesAtOnce) t.connRefused++;
      else {
        for (const st of statuses) {
          if (st === 200) t.ok++;
          else if (st === 503) t.refused++;
          else t.other++;
        }
        t.lost = PER - statuses.length;
      }
      resolve(t);
    };
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, 60_000);
    s.on("connect", () => s.write(reqs));
    s.on("data", (b) => (text += b.toString("latin1")));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      done();
    });
  });
}

console.log(`| strategy | connections | requests | 200 | 503 | connections refused (503 + close) | lost | other | server peak RSS (MiB) | time (s) |`);
console.log(`|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|`);
for (const strategy of strategies) {
  const server = spawn("taskset", ["-c", "1", "node_modules/.bin/node", "bench/servers/flood_server.ts"], {
    env: { ...process.env, PORT: String(PORT), STRATEGY: strategy },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  server.stdout.on("data", (b) => (out += b));
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect({ port: PORT, host: "127.0.0.1" }, () => {
        c.destroy();
        r(true);
      });
      c.on("error", () => r(false));
    });
    if (ok) break;
    await sleep(100);
  }
  const t0 = Date.now();
  const tallies = await Promise.all(Array.from({ length: CONNS }, (_, i) => client(i)));
  const secs = (Date.now() - t0) / 1000;
  const rss = peakRss(server.pid!);
  server.kill("SIGTERM");
  await new Promise((r) => server.on("exit", r));
  const sum = tallies.reduce((a, t) => ({ ok: a.ok + t.ok, refused: a.refused + t.refused, other: a.other + t.other, lost: a.lost + t.lost, connRefused: a.connRefused + t.connRefused }), { ok: 0, refused: 0, other: 0, lost: 0, connRefused: 0 });
  console.log(`| ${strategy} | ${CONNS} | ${CONNS * PER} | ${sum.ok} | ${sum.refused} | ${sum.connRefused} | ${sum.lost} | ${sum.other} | ${rss.toFixed(0)} | ${secs.toFixed(1)} |`);
  if (process.env.VERBOSE) console.log(out.trim());
}
