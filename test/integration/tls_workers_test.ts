/**
 * `serve({ workers: 2, tls })` end to end on Node, Deno and Bun: the test
 * runs on Node and spawns `fixtures/tls_worker_app.ts` with each runtime.
 * Both workers answer HTTPS with the certificate the script reads; after the
 * files change and the primary gets SIGUSR2 (the fixture calls `server.setTls`), both answer
 * with the new one, and the port never stops answering.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { makeCerts, opensslMissing } from "../helpers/certs.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(ROOT, "test/integration/fixtures/tls_worker_app.ts");
const BIN = path.join(ROOT, "node_modules/.bin");
const RUNTIMES: [string, string[]][] = [
  ["node", [path.join(BIN, "node"), FIXTURE]],
  ["deno", [path.join(BIN, "deno"), "run", "-A", "--unstable-net", FIXTURE]],
  ["bun", [path.join(BIN, "bun"), FIXTURE]],
];

const skip = "Deno" in globalThis || "Bun" in globalThis
  ? "runs under Node only: it spawns Node, Deno and Bun itself (running it from every runtime would run it thrice)"
  : opensslMissing();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTPS request on a fresh connection: the worker pid and the certificate's CN, or null when it failed. */
function hit(port: number, ca: string): Promise<{ pid: string; cn: string } | null> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: ["http/1.1"] }, () => {
      const cn = String(s.getPeerCertificate().subject?.CN ?? "");
      s.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      let text = "";
      s.setEncoding("utf8");
      s.on("data", (d: string) => (text += d));
      s.on("end", () => {
        const m = text.match(/\r\n\r\n(\d+) https:\/\/localhost\/$/);
        resolve(m === null ? null : { pid: m[1], cn });
      });
    });
    s.on("error", () => resolve(null));
    s.setTimeout(3000, () => {
      s.destroy();
      resolve(null);
    });
  });
}

describe("workers with TLS: serve({ workers: 2, tls }) across processes", { skip }, () => {
  for (const [runtime, cmd] of RUNTIMES) {
    it(`${runtime}: both workers serve HTTPS; SIGUSR2 (setTls) swaps the certificates in both`, { timeout: 30_000 }, async () => {
      const certs = makeCerts();
      const certFile = path.join(certs.dir, "live.pem");
      const keyFile = path.join(certs.dir, "live.key");
      fs.copyFileSync(certs.localhost.certFile, certFile);
      fs.copyFileSync(certs.localhost.keyFile, keyFile);
      const lines: string[] = [];
      const child: ChildProcess = spawn(cmd[0], cmd.slice(1), {
        cwd: ROOT,
        env: { ...process.env, PORT: "0", CERT_FILE: certFile, KEY_FILE: keyFile },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let buf = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      const exited = new Promise((r) => child.once("exit", r));
      const waitFor = async (re: RegExp, ms: number) => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
          for (const l of lines) {
            const m = l.match(re);
            if (m !== null) return m;
          }
          await sleep(20);
        }
        throw new Error(`no line matching ${re}; got:\n${lines.join("\n")}`);
      };
      try {
        const ready = await waitFor(/^ready (\d+) (\d+),(\d+) (\S+)$/, 15_000);
        const port = Number(ready[1]);
        assert.equal(ready[4], `https://127.0.0.1:${port}/`);
        const pids = [ready[2], ready[3]];
        const seen = new Map<string, string>();
        for (let i = 0; i < 40 && seen.size < 2; i++) {
          const r = await hit(port, certs.ca.cert);
          assert.ok(r !== null, `request ${i} failed`);
          seen.set(r.pid, r.cn);
        }
        assert.deepEqual([...seen.keys()].sort(), [...pids].sort(), "both workers answer");
        assert.deepEqual([...seen.values()], ["localhost", "localhost"]);

        fs.copyFileSync(certs.localhost2.certFile, certFile);
        fs.copyFileSync(certs.localhost2.keyFile, keyFile);
        child.kill("SIGUSR2");
        await waitFor(/^swapped$/, 5000);
        const after = new Map<string, string>();
        const deadline = Date.now() + 8000;
        while (Date.now() < deadline && !(after.size === 2 && [...after.values()].every((cn) => cn === "localhost-2"))) {
          const r = await hit(port, certs.ca.cert);
          // Node swaps in place; a Bun or Deno worker binds a new listener
          // and closes the old, which resets a connect racing it (see tls_test.ts).
          if (r === null && runtime !== "node") continue;
          assert.ok(r !== null, "the port keeps answering during the swap");
          after.set(r.pid, r.cn);
        }
        assert.deepEqual([...after.entries()].sort(), pids.map((p) => [p, "localhost-2"]).sort(), "both workers present the new certificate");
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(8000)]);
        assert.ok(lines.includes("finished"), lines.join("\n"));
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        certs.remove();
      }
    });
  }
});
