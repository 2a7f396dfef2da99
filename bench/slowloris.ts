// Slowloris probe: open one connection and send a request head one byte per second, never
// finishing it; report after how many seconds the server answered (408 expected) or closed.
// Loopback only; gives up after --max seconds (default 120, capped at 120).
//
//   node_modules/.bin/node bench/slowloris.ts [server ...] [--max 120] [--interval 1000]
//   node_modules/.bin/node bench/slowloris.ts --port 3000           # a server you started
//
// Servers are the bench/run.sh names (default: all that can start); they are probed
// concurrently, one connection each, so the whole run takes at most ~max seconds.
import { connect } from "node:net";
import { findServer, parseArgs, SERVERS, sleep, startServer, unavailable, type ServerDef, type Started } from "./servers/registry.ts";

const { opts, rest } = parseArgs(process.argv.slice(2));
const MAX_S = Math.min(Number(opts.max ?? 120), 120);
const INTERVAL_MS = Math.max(Number(opts.interval ?? 1000), 50);
const BASE_PORT = Number(process.env.BASE_PORT ?? 3970);
// Never terminated: the X-Slow value grows one byte per tick until the server gives up.
const HEAD = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

interface Outcome {
  label: string;
  result: string;
  seconds: number | null;
  bytesSent: number;
}

function probe(label: string, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const secs = (): number => Math.round((Date.now() - t0) / 100) / 10;
    const sock = connect({ port, host: "127.0.0.1" });
    let sent = 0;
    let got = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    let firstData: { s: number; status: string } | undefined;
    let done = false;
    const finish = (result: string, seconds: number | null): void => {
      if (done) return;
      done = true;
      if (timer) clearInterval(timer);
      if (giveUp) clearTimeout(giveUp);
      sock.destroy();
      resolve({ label, result, seconds, bytesSent: sent });
    };
    const tick = (): void => {
      const ch = sent < HEAD.length ? HEAD[sent] : "a";
      sent++;
      sock.write(ch);
    };
    sock.once("connect", () => {
      tick();
      timer = setInterval(tick, INTERVAL_MS);
    });
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (!firstData) {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
        firstData = { s: secs(), status: m ? m[1] : JSON.stringify(got.slice(0, 40)) };
      }
    });
    const closed = (how: string): void => {
      if (firstData) finish(`answered ${firstData.status} at ${firstData.s}s, then ${how} at ${secs()}s`, firstData.s);
      else finish(`${how} without answering`, secs());
    };
    sock.on("end", () => closed("closed (FIN)"));
    sock.on("error", (e: NodeJS.ErrnoException) => closed(`closed (${e.code ?? e.message})`));
    sock.on("close", () => closed("closed"));
    giveUp = setTimeout(() => {
      if (firstData) finish(`answered ${firstData.status} at ${firstData.s}s, connection still open at ${MAX_S}s`, firstData.s);
      else finish(`still open, no answer after ${MAX_S}s (gave up)`, null);
    }, MAX_S * 1000);
  });
}

async function main(): Promise<void> {
  console.error(`slowloris: one byte every ${INTERVAL_MS} ms, giving up after ${MAX_S} s`);
  const rows: string[] = [];
  const probes: Promise<Outcome>[] = [];
  const started: Started[] = [];
  if (opts.port) {
    probes.push(probe(`:${opts.port}`, Number(opts.port)));
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
        rows.push(`| ${def.label} | skipped: ${why} | |`);
        continue;
      }
      try {
        const srv = await startServer(def, port);
        started.push(srv);
        console.error(`== ${def.name} on :${port}`);
        probes.push(
          probe(def.label, port).then((o) => {
            console.error(`  ${def.name}: ${o.result}`);
            return o;
          }),
        );
      } catch (e) {
        console.error(`FAIL ${(e as Error).message}`);
        rows.push(`| ${def.label} | failed to start | |`);
      }
    }
  }
  for (const o of await Promise.all(probes)) {
    rows.push(`| ${o.label} | ${o.result} | ${o.seconds ?? `>${MAX_S}`} |`);
  }
  await Promise.all(started.map((s) => s.stop()));
  await sleep(100);
  console.log(
    [
      `Slowloris: request head sent one byte every ${INTERVAL_MS} ms, never finished; bounded at ${MAX_S} s.`,
      "",
      "| Server | Outcome | Seconds to first answer/close |",
      "|---|---|---:|",
      ...rows,
    ].join("\n"),
  );
}

await main();
process.exit(0);
