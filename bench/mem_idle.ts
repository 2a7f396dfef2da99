// Idle keep-alive memory: open N connections to a server (one GET / each, response read, then
// left idle) and report the server's RSS growth per connection (KiB/conn). Loopback only.
//
//   node_modules/.bin/node bench/mem_idle.ts [server ...] [--conns 10000]
//   node_modules/.bin/node bench/mem_idle.ts --port 3000 --pid 12345   # a server you started
//
// Servers are the bench/run.sh names (default: all that can start). Each is started pinned to
// CPU 1 with `ulimit -n` raised as far as allowed; this client needs ~N fds too (Node raises its
// own soft limit to the hard one). Bounded: at most 60 s to open the connections per server.
import { connect, type Socket } from "node:net";
import { findServer, parseArgs, procKiB, SERVERS, sleep, startServer, unavailable, type ServerDef } from "./servers/registry.ts";

const { opts, rest } = parseArgs(process.argv.slice(2));
const N = Math.min(Number(opts.conns ?? process.env.CONNS ?? 10000), 50000);
const BATCH = Number(opts.batch ?? 256); // connections in flight while opening
const SETTLE_MS = Number(opts.settle ?? 1000);
const OPEN_BUDGET_MS = 60000;
const BASE_PORT = Number(process.env.BASE_PORT ?? 3950);
const REQ = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

interface Conn {
  sock: Socket;
  closed: boolean;
}

/** Open one connection, send one GET /, resolve once "Hello, World!" arrived. */
function openOne(port: number, all: Conn[]): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: "127.0.0.1" });
    const c: Conn = { sock, closed: false };
    let got = "";
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      if (ok) all.push(c);
      else sock.destroy();
      resolve(ok);
    };
    sock.setNoDelay(true);
    sock.once("connect", () => sock.write(REQ));
    sock.on("data", (d: Buffer) => {
      if (done) return; // ignore anything later (e.g. a trailing chunk terminator)
      got += d.toString("latin1");
      if (got.includes("Hello, World!")) finish(true);
    });
    sock.on("error", () => finish(false));
    sock.on("close", () => {
      c.closed = true;
      finish(false);
    });
    sock.setTimeout(10000, () => finish(false));
  });
}

async function warm(port: number): Promise<void> {
  // 20 connections x 100 sequential requests, then closed: lets JITs and pools settle.
  const tmp: Conn[] = [];
  for (let i = 0; i < 20; i++) await openOne(port, tmp);
  for (let round = 0; round < 99; round++) {
    await Promise.all(
      tmp.map(
        (c) =>
          new Promise<void>((r) => {
            let got = "";
            const on = (d: Buffer): void => {
              got += d.toString("latin1");
              if (got.includes("Hello, World!")) {
                c.sock.off("data", on);
                r();
              }
            };
            c.sock.on("data", on);
            c.sock.write(REQ);
            setTimeout(r, 2000);
          }),
      ),
    );
  }
  for (const c of tmp) c.sock.destroy();
}

interface Result {
  label: string;
  ok: number;
  failed: number;
  closedBeforeSample: number;
  before: number;
  after: number;
  openMs: number;
  note?: string;
}

async function measure(label: string, port: number, pid: number): Promise<Result> {
  await warm(port);
  await sleep(1000);
  const before = await procKiB(pid, "VmRSS");
  const all: Conn[] = [];
  let failed = 0;
  let next = 0;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (next < N && Date.now() - t0 < OPEN_BUDGET_MS) {
      next++;
      if (!(await openOne(port, all))) failed++;
      if (failed > 100 && failed > all.length) return; // server is refusing; stop early
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH, N) }, worker));
  const openMs = Date.now() - t0;
  await sleep(SETTLE_MS);
  const after = await procKiB(pid, "VmRSS");
  const closedBeforeSample = all.filter((c) => c.closed).length;
  for (const c of all) c.sock.destroy();
  return {
    label,
    ok: all.length,
    failed,
    closedBeforeSample,
    before,
    after,
    openMs,
    note: next < N ? `stopped after ${next} attempts` : undefined,
  };
}

function row(r: Result): string {
  const live = r.ok - r.closedBeforeSample;
  const per = live > 0 ? ((r.after - r.before) / live).toFixed(2) : "—";
  const mib = (k: number): string => (Number.isNaN(k) ? "?" : (k / 1024).toFixed(1));
  return `| ${r.label} | ${live} | ${r.failed} | ${r.closedBeforeSample} | ${mib(r.before)} | ${mib(r.after)} | ${per} | ${r.openMs} |${r.note ? " " + r.note : ""}`;
}

const header = [
  `Idle keep-alive memory, N=${N} connections (one GET / each, then idle; RSS sampled ${SETTLE_MS} ms after the last one opened).`,
  "KiB/conn = (VmRSS after - VmRSS before) / live connections.",
  "",
  "| Server | Live conns | Failed | Closed by server before sample | RSS before (MiB) | RSS after (MiB) | KiB/conn | Open time (ms) |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
];

async function main(): Promise<void> {
  const rows: string[] = [];
  if (opts.port) {
    const port = Number(opts.port);
    const pid = Number(opts.pid);
    if (!pid) throw new Error("--port needs --pid <server pid> to read its RSS");
    rows.push(row(await measure(`:${port} (pid ${pid})`, port, pid)));
  } else {
    const defs: ServerDef[] = [];
    for (const name of rest.length ? rest : SERVERS.map((s) => s.name)) {
      const d = findServer(name);
      if (!d) console.error(`unknown server '${name}', skipped (names: ${SERVERS.map((s) => s.name).join(" ")})`);
      else defs.push(d);
    }
    let i = 0;
    for (const def of defs) {
      const port = BASE_PORT + i++;
      const why = unavailable(def);
      if (why) {
        console.error(`skip ${def.name}: ${why}`);
        rows.push(`| ${def.label} | skipped: ${why} ||||||`);
        continue;
      }
      console.error(`== ${def.name} on :${port}`);
      let srv;
      try {
        srv = await startServer(def, port);
      } catch (e) {
        console.error(`FAIL ${(e as Error).message}`);
        rows.push(`| ${def.label} | failed to start ||||||`);
        continue;
      }
      try {
        const r = await measure(def.label, port, srv.pid);
        console.error("  " + row(r));
        rows.push(row(r));
      } catch (e) {
        console.error(`FAIL ${def.name}: ${(e as Error).message}`);
        rows.push(`| ${def.label} | error: ${(e as Error).message} ||||||`);
      } finally {
        await srv.stop();
      }
      await sleep(500);
    }
  }
  console.log([...header, ...rows].join("\n"));
}

await main();
process.exit(0);
