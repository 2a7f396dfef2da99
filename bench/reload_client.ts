/**
 * A bounded keep-alive client that checks every response, for measuring a
 * reload or a rolling restart: `conns` connections, each keeping `depth`
 * pipelined GETs in flight, until `stop()`.
 *
 * Counted per request: `ok` (2xx, complete), `non2xx`, `failed` (the
 * connection was reset or refused, or closed in the middle of a response),
 * and `retried`: requests still unanswered when the server closed the
 * connection cleanly (FIN after its last response). RFC 9112 §9.3.1 lets a
 * client retry an idempotent request in that case, and every HTTP client
 * and proxy does; this one resends it on a new connection, and it counts
 * as `ok` once answered.
 *
 * Runs on Node, Deno and Bun (node:net). CLI: `node bench/reload_client.ts
 * PORT SECONDS [CONNS] [DEPTH]` prints the counts as JSON.
 */
import { connect, type Socket } from "node:net";
import process from "node:process";

export interface LoadCounts {
  ok: number;
  non2xx: number;
  failed: number;
  retried: number;
  connections: number;
  errors: string[];
}

export interface Load {
  counts: LoadCounts;
  /** Stops sending; resolves once every connection is done (answered or failed). */
  stop(): Promise<LoadCounts>;
}

const REQUEST = "GET / HTTP/1.1\r\nHost: reload\r\n\r\n";

export function startLoad(port: number, conns = 8, depth = 1, host = "127.0.0.1"): Load {
  const counts: LoadCounts = { ok: 0, non2xx: 0, failed: 0, retried: 0, connections: 0, errors: [] };
  let stopping = false;
  let live = 0;
  let allDone: (() => void) | null = null;
  /** Ends a connection once nothing is outstanding on it (after stop). */
  const enders = new Set<() => void>();
  const note = (what: string) => {
    counts.failed++;
    if (counts.errors.length < 20) counts.errors.push(what);
  };

  const open = (carry: number): void => {
    live++;
    counts.connections++;
    const s: Socket = connect(port, host);
    let buf = "";
    let outstanding = 0;
    let closeAfter = false;
    let gone = false;
    const send = (n: number) => {
      for (let i = 0; i < n; i++) s.write(REQUEST);
      outstanding += n;
    };
    s.setNoDelay(true);
    s.on("connect", () => send(Math.max(carry, stopping ? 0 : depth)));
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      buf += d;
      while (true) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.slice(0, end);
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        const len = m === null ? 0 : Number(m[1]);
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        outstanding--;
        const status = Number(head.slice(9, 12));
        if (status >= 200 && status < 300) counts.ok++;
        else {
          counts.non2xx++;
          if (counts.errors.length < 20) counts.errors.push(`status ${status}`);
        }
        if (/\r\nconnection: *close/i.test(head)) closeAfter = true;
        if (!closeAfter && !stopping) send(1);
        if (stopping && outstanding === 0) s.end();
      }
    });
    const ender = () => {
      if (outstanding === 0) s.end();
    };
    enders.add(ender);
    const finish = (how: "end" | "error", error?: Error) => {
      if (gone) return;
      gone = true;
      enders.delete(ender);
      live--;
      if (how === "error") {
        const code = (error as { code?: string } | undefined)?.code ?? String(error);
        if (outstanding > 0 || buf !== "") {
          // Reset or refused with requests sent: those are lost.
          for (let i = 0; i < Math.max(outstanding, 1); i++) note(code);
          outstanding = 0;
        } else if (!closeAfter && !stopping) note(code);
      } else if (buf !== "") note("closed mid-response");
      else if (outstanding > 0) counts.retried += outstanding;
      const again = how === "end" ? outstanding : 0;
      if (!stopping || again > 0) open(again);
      else if (live === 0) allDone?.();
    };
    s.on("end", () => {
      finish("end");
      s.end();
    });
    s.on("error", (e) => finish("error", e));
    s.on("close", () => finish(buf === "" && outstanding === 0 ? "end" : "error", new Error("closed")));
  };
  for (let i = 0; i < conns; i++) open(0);
  return {
    counts,
    stop() {
      stopping = true;
      for (const end of enders) end();
      return new Promise<LoadCounts>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = () => {
          clearTimeout(timer);
          resolve(counts);
        };
        if (live === 0) return done();
        allDone = done;
        // Bounded: a connection that never finishes does not hold the caller.
        timer = setTimeout(done, 10_000);
      });
    },
  };
}

if (import.meta.main ?? process.argv[1]?.endsWith("reload_client.ts")) {
  const [port, seconds, conns, depth] = process.argv.slice(2).map(Number);
  const load = startLoad(port, conns || 8, depth || 1);
  setTimeout(async () => {
    const c = await load.stop();
    console.log(JSON.stringify(c));
    process.exit(0);
  }, (seconds || 5) * 1000);
}
