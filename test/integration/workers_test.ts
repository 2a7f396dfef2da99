/**
 * `serve({ workers: 2 })` end to end, on Node, Deno and Bun: the test runs
 * on Node and spawns `test/integration/fixtures/worker_app.ts` with each
 * runtime's binary. Checks that connections spread over the workers, that a
 * killed worker is replaced while the port keeps answering, that the
 * primary aggregates stats, and that SIGTERM under load completes every
 * response it started and exits within the deadline.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { rawRequest } from "../helpers/raw_client.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(ROOT, "test/integration/fixtures/worker_app.ts");
const BIN = path.join(ROOT, "node_modules/.bin");
const SHUTDOWN_MS = 3000;

const RUNTIMES: [string, string[]][] = [
  ["node", [path.join(BIN, "node"), FIXTURE]],
  ["deno", [path.join(BIN, "deno"), "run", "-A", "--unstable-net", FIXTURE]],
  ["bun", [path.join(BIN, "bun"), FIXTURE]],
];

const skip = "Deno" in globalThis || "Bun" in globalThis
  ? "runs under Node only: it spawns Node, Deno and Bun itself (running it from every runtime would run it thrice)"
  : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fixture's primary, with its stdout lines. */
class App {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];
  exited: Promise<number | null>;

  constructor(cmd: string[]) {
    this.child = spawn(cmd[0], cmd.slice(1), {
      cwd: ROOT,
      env: { ...process.env, PORT: "0", WORKERS: "2", SHUTDOWN_MS: String(SHUTDOWN_MS) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buf = "";
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        for (const w of this.#waiters.splice(0)) w();
      }
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Waits for a line matching `re`; returns its match. */
  async waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        const m = this.lines[i].match(re);
        if (m !== null) return m;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${re} in ${timeoutMs} ms; got:\n${this.lines.join("\n")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** One request on a fresh connection; the worker's pid, or null when it failed. */
async function pidOf(port: number): Promise<string | null> {
  try {
    const r = await rawRequest(port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", { timeoutMs: 2000 });
    const m = r.text.match(/^HTTP\/1\.1 200 [^]*?\r\n\r\n(\d+)$/);
    return m === null ? null : m[1];
  } catch {
    return null;
  }
}

interface LoadResult {
  completed: number;
  /** A response started but did not finish, or a reset while a response was due after some bytes. */
  broken: number;
  /**
   * A keep-alive connection that had been answered before closed with the
   * next request sent and no response byte: the server closed it as idle
   * while that request was on its way (the keep-alive race every HTTP
   * client retries; RFC 9112 §9.3.1).
   */
  unanswered: number;
  /**
   * A connection the kernel had completed but no worker had accepted yet,
   * reset when the listeners closed (SO_REUSEPORT queues are not migrated):
   * a failed connect, in effect.
   */
  notAccepted: number;
  connectFailed: number;
}

/**
 * Requests in a loop on one keep-alive connection until the server closes
 * it (or says `Connection: close`), then reconnects, until `stop()` says so.
 */
function keepAliveLoop(port: number, result: LoadResult, stopped: () => boolean): Promise<void> {
  return new Promise<void>((done) => {
    const connect = () => {
      if (stopped()) return done();
      const socket = net.connect({ port, host: "127.0.0.1" });
      let buf = Buffer.alloc(0);
      let waiting = false;
      let finished = false;
      let connected = false;
      let answered = 0;
      const finish = (error: boolean) => {
        if (finished) return;
        finished = true;
        socket.destroy();
        if (!connected) result.connectFailed++;
        else if (waiting) {
          if (buf.length > 0) result.broken++;
          else if (answered > 0) result.unanswered++;
          else result.notAccepted++;
        }
        void error;
        setTimeout(connect, 5);
      };
      const send = () => {
        if (stopped()) {
          finished = true;
          socket.destroy();
          return done();
        }
        waiting = true;
        buf = Buffer.alloc(0);
        socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      };
      socket.on("connect", () => {
        connected = true;
        send();
      });
      socket.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString("latin1");
        const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        if (!(buf.length >= end + 4 + len)) return;
        if (!head.startsWith("HTTP/1.1 200")) {
          result.broken++;
          waiting = false;
          return finish(true);
        }
        result.completed++;
        answered++;
        waiting = false;
        if (/connection: *close/i.test(head)) return finish(false);
        setTimeout(send, 2);
      });
      socket.on("error", () => finish(true));
      socket.on("close", () => finish(false));
    };
    connect();
  });
}

describe("workers: serve({ workers: 2 }) across processes", { skip }, () => {
  for (const [runtime, cmd] of RUNTIMES) {
    it(`${runtime}: spreads connections, replaces a killed worker, sums stats, drains on SIGTERM`, { timeout: 20_000 }, async (t) => {
      const app = new App(cmd);
      try {
        const ready = await app.waitFor(/^ready (\d+) (\d+),(\d+)$/, 10_000);
        const port = Number(ready[1]);
        const workerPids = [ready[2], ready[3]];
        assert.notEqual(workerPids[0], workerPids[1]);

        // Fresh connections land on both workers.
        const seen = new Set<string>();
        for (let i = 0; i < 40; i++) {
          const pid = await pidOf(port);
          assert.ok(pid !== null, `request ${i} failed`);
          seen.add(pid);
        }
        assert.deepEqual([...seen].sort(), [...workerPids].sort(), "answered by exactly the two workers");

        // The primary sums the workers' reports.
        await app.waitFor(/^stats ([4-9]\d|\d{3,})$/, 4000);

        // SIGKILL one worker: a replacement comes up and the port keeps answering.
        process.kill(Number(workerPids[0]), "SIGKILL");
        let replacement: string | undefined;
        const deadline = Date.now() + 8000;
        while (replacement === undefined && Date.now() < deadline) {
          const pid = await pidOf(port);
          if (pid !== null && !workerPids.includes(pid)) replacement = pid;
          else await sleep(20);
        }
        assert.ok(replacement !== undefined, "a replacement worker answers");
        for (let i = 0; i < 20; i++) assert.ok((await pidOf(port)) !== null, `request ${i} after the restart failed`);

        // SIGTERM to the primary under light keep-alive load.
        const result: LoadResult = { completed: 0, broken: 0, unanswered: 0, notAccepted: 0, connectFailed: 0 };
        let stop = false;
        let exitedAt = 0;
        const loops = Array.from({ length: 4 }, () => keepAliveLoop(port, result, () => stop));
        await sleep(300);
        const before = result.completed;
        assert.ok(before > 0, "load is flowing");
        const signalledAt = Date.now();
        app.child.kill("SIGTERM");
        const code = await Promise.race([app.exited, sleep(SHUTDOWN_MS + 4000).then(() => "late" as const)]);
        exitedAt = Date.now();
        stop = true;
        await Promise.all(loops);
        assert.notEqual(code, "late", "the primary exits within the deadline");
        assert.equal(code, 0);
        assert.ok(exitedAt - signalledAt < SHUTDOWN_MS + 3000, `exit took ${exitedAt - signalledAt} ms`);
        t.diagnostic(`${runtime}: SIGTERM under load: ${JSON.stringify(result)}, exit after ${exitedAt - signalledAt} ms`);
        assert.equal(result.broken, 0, `no response cut short (${JSON.stringify(result)})`);
        assert.match(app.lines.join("\n"), /^closed \{"finished":\d+,"cut":0,"webSockets":\{"closed":0,"cut":0\}\}$/m);
        // After the primary is gone nothing listens.
        assert.equal(await pidOf(port), null);
      } finally {
        app.kill();
        await app.exited;
      }
    });
  }
});
