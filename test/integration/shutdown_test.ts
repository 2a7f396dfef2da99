/**
 * Graceful shutdown on a signal, black-box, on Node, Deno and Bun: the test
 * runs on Node and spawns `fixtures/signal_app.ts` with each runtime. Under
 * steady keep-alive load it sends SIGTERM and checks that every request the
 * server received got a complete response, that nothing new is accepted
 * afterwards, and that the process exits by itself within the deadline.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseResponses } from "../helpers/raw_client.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(ROOT, "test/integration/fixtures/signal_app.ts");
const BIN = path.join(ROOT, "node_modules/.bin");
const SHUTDOWN_MS = 3000;
const skip = "Deno" in globalThis || "Bun" in globalThis
  ? "runs under Node only: it spawns Node, Deno and Bun itself"
  : false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RUNTIMES: [string, string[]][] = [
  ["node", [path.join(BIN, "node"), FIXTURE]],
  ["deno", [path.join(BIN, "deno"), "run", "-A", FIXTURE]],
  ["bun", [path.join(BIN, "bun"), FIXTURE]],
];

/** One keep-alive client: sends a request, waits for its whole response, repeats until the server closes. */
async function client(port: number, tally: { complete: number; truncated: number; refused: number; unanswered: number }): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let text = "";
    let sent = 0;
    const next = () => {
      sent++;
      s.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    };
    s.on("connect", next);
    s.on("data", (b: Buffer) => {
      text += b.toString("latin1");
      const rs = parseResponses(text);
      const done = rs.filter((r) => r.body.length === 1000).length;
      if (done === sent && !/connection: close/i.test(text)) next();
    });
    s.on("error", () => {});
    s.on("close", () => {
      if (sent === 0) tally.refused++;
      const rs = parseResponses(text);
      const complete = rs.filter((r) => r.status === 200 && r.body.length === 1000).length;
      tally.complete += complete;
      // Bytes of a response that did not complete: data lost mid-response.
      const consumed = rs.reduce((n, r) => n + r.body.length, 0);
      if (rs.length > complete || text.length > 0 && consumed === 0 && rs.length === 0) tally.truncated++;
      // A request written on a connection before the server said it closes
      // is answered (issue 9.6): the server ends an idle connection only
      // after a silent grace, so none goes unanswered.
      if (complete < sent) tally.unanswered += sent - complete;
      resolve();
    });
  });
}

describe("graceful shutdown on SIGTERM (single process)", { skip }, () => {
  for (const [runtime, cmd] of RUNTIMES) {
    it(`${runtime}: answers every received request in full, refuses new ones, exits by itself`, { timeout: 20_000 }, async () => {
      const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, env: { ...process.env, SHUTDOWN_MS: String(SHUTDOWN_MS) }, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      try {
        for (let i = 0; i < 200 && !/ready (\d+)/.test(out); i++) await sleep(25);
        const port = Number(/ready (\d+)/.exec(out)![1]);
        const tally = { complete: 0, truncated: 0, refused: 0, unanswered: 0 };
        const clients = Array.from({ length: 16 }, () => client(port, tally));
        await sleep(400);
        const signalledAt = Date.now();
        child.kill("SIGTERM");
        const code = await exited;
        const tookMs = Date.now() - signalledAt;
        await Promise.all(clients);
        assert.equal(code, 0);
        assert.ok(tookMs < SHUTDOWN_MS + 1000, `exited after ${tookMs} ms`);
        assert.ok(tally.complete > 0);
        assert.equal(tally.truncated, 0, `responses cut short: ${JSON.stringify(tally)}`);
        assert.equal(tally.unanswered, 0, `requests got no answer: ${JSON.stringify(tally)}`);
        assert.match(out, /closed \{"finished":\d+,"cut":0,"webSockets":\{"closed":0,"cut":0\}\}/);
        const after = await new Promise<boolean>((r) => {
          const s = net.connect({ port, host: "127.0.0.1" }, () => {
            s.destroy();
            r(true);
          });
          s.on("error", () => r(false));
        });
        assert.equal(after, false, "a connection was accepted after shutdown");
      } finally {
        child.kill("SIGKILL");
      }
    });
  }
});
