/**
 * A rolling restart behind a real nginx, on Node, Deno and Bun: nginx
 * proxies POSTs to anyserve over upstream keep-alive, with a backup upstream
 * (a plain `node:http` server) that takes over once anyserve stops
 * accepting. Under steady POST load anyserve is restarted a few times, as
 * in a rolling deploy: SIGTERM (`handleSignals`), exit, start again on the
 * same port. nginx must not answer a single 5xx: every request nginx
 * wrote on a pooled connection is answered, and what comes after goes to
 * the backup (issue 9.6). Before that fix this gave 15-32 `502`s per run
 * ("upstream prematurely closed connection").
 *
 * It installs nothing: it uses `nginx` from PATH or /usr/sbin/nginx and
 * skips, saying so, when there is none (`.ci/run` installs it with
 * apt-get). It runs under Node and spawns each runtime itself. The nginx
 * config it writes (all paths inside a temporary directory, 127.0.0.1 on
 * ephemeral ports) is the README's example for running behind a proxy.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(ROOT, "test/proxy/fixtures/upstream_app.ts");
const BIN = path.join(ROOT, "node_modules/.bin");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Concurrent clients: no more than nginx keeps idle upstream connections
 * (16), so that it pools every connection it opens and keeps reusing them,
 * and opens new ones only after a restart. With more, nginx opens and
 * closes upstream connections all the time, and one that the kernel has
 * queued but the server not yet accepted when the listener closes is reset
 * by the kernel: a 502 no server can prevent (the README's rule: keepalive
 * at or above the concurrency to the upstream).
 */
const CLIENTS = Number(process.env.NGINX_TEST_CLIENTS ?? 12);
/** Restarts of anyserve per runtime. */
const CYCLES = Number(process.env.NGINX_TEST_CYCLES ?? 3);

/** nginx from PATH, else /usr/sbin/nginx; null when neither is there. */
function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/sbin"];
  for (const dir of dirs) {
    const p = path.join(dir, "nginx");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

const NGINX = "Deno" in globalThis || "Bun" in globalThis ? null : findNginx();
const skip = "Deno" in globalThis || "Bun" in globalThis
  ? "runs under Node only: it spawns Node, Deno and Bun itself"
  : NGINX === null
  ? "nginx not found on PATH or at /usr/sbin/nginx (install it, e.g. apt-get install nginx, to run this test)"
  : false;

const RUNTIMES: [string, string[]][] = [
  ["node", [path.join(BIN, "node"), FIXTURE]],
  ["deno", [path.join(BIN, "deno"), "run", "-A", FIXTURE]],
  ["bun", [path.join(BIN, "bun"), FIXTURE]],
];

/** A port free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on `port`. */
async function listening(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => (s.destroy(), r(true)));
      s.on("error", () => r(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listening on ${port} after ${ms} ms`);
}

/** The nginx config: upstream keep-alive to anyserve, a backup for new connections once it stops accepting. */
export function nginxConfig(dir: string, listen: number, primary: number, backup: number): string {
  const asRoot = process.getuid?.() === 0;
  return `${asRoot ? "user root;\n" : ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream app {
    # max_fails=0: a primary that refuses (restarting) is tried again on
    # the next new connection rather than shunned for fail_timeout.
    server 127.0.0.1:${primary} max_fails=0;
    server 127.0.0.1:${backup} backup;
    # Idle upstream connections kept per worker, and how long nginx keeps
    # one idle: below anyserve's keepAliveTimeoutMs (10 s in the fixture),
    # so nginx, not the server, ends an idle connection.
    keepalive 16;
    keepalive_timeout 4s;
  }

  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

interface Tally {
  primary: number;
  backup: number;
  status5xx: number;
  other: number;
  failed: number;
}

/** One client: POSTs through nginx one after another until `stop.now`. */
async function client(url: string, tally: Tally, stop: { now: boolean }, seed: number): Promise<void> {
  let n = seed;
  while (!stop.now) {
    n = (n * 1103515245 + 12345) & 0x7fffffff;
    const body = "p".repeat(256 + (n % 4096));
    try {
      const res = await fetch(url, { method: "POST", body, headers: { "content-type": "text/plain" } });
      const text = await res.text();
      if (res.status >= 500) tally.status5xx++;
      else if (res.status === 200 && text === `primary ${body.length}`) tally.primary++;
      else if (res.status === 200 && text === `backup ${body.length}`) tally.backup++;
      else tally.other++;
    } catch {
      tally.failed++;
    }
    // A pause between requests, so that nginx holds idle upstream
    // connections and keeps picking them up again: the moment a shutdown
    // that ends idle connections at once loses requests.
    await sleep(n % 5);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once("exit", (code) => r(code)));
}

describe("behind nginx: SIGTERM under POST load", { skip }, () => {
  for (const [runtime, cmd] of RUNTIMES) {
    it(`${runtime}: nginx answers no 5xx across anyserve's graceful shutdown`, { timeout: 30_000 }, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anyserve-nginx-"));
      const backup = http.createServer((req, res) => {
        let length = 0;
        req.on("data", (c: Buffer) => (length += c.length));
        req.on("end", () => res.end(`backup ${length}`));
      });
      await new Promise<void>((r) => backup.listen(0, "127.0.0.1", r));
      const backupPort = (backup.address() as net.AddressInfo).port;
      const primaryPort = await freePort();
      const start = () => {
        const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, env: { ...process.env, PORT: String(primaryPort) }, stdio: ["ignore", "pipe", "inherit"] });
        const run = { child, out: "" };
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (run.out += d));
        return run;
      };
      const ready = async (run: { out: string }) => {
        for (let i = 0; i < 400 && !/ready (\d+)/.test(run.out); i++) await sleep(25);
        assert.match(run.out, /ready (\d+)/, "anyserve did not start");
      };
      let app = start();
      let nginx: ChildProcess | null = null;
      const stop = { now: false };
      let clients: Promise<void>[] = [];
      try {
        await ready(app);
        const listen = await freePort();
        const conf = path.join(dir, "nginx.conf");
        fs.writeFileSync(conf, nginxConfig(dir, listen, primaryPort, backupPort));
        nginx = spawn(NGINX!, ["-p", dir, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
        let nginxErr = "";
        nginx.stderr!.setEncoding("utf8").on("data", (d: string) => (nginxErr += d));
        await listening(listen, 5000).catch((e) => {
          throw new Error(`${e.message}; nginx said: ${nginxErr}`);
        });

        const tally: Tally = { primary: 0, backup: 0, status5xx: 0, other: 0, failed: 0 };
        clients = Array.from({ length: CLIENTS }, (_, i) => client(`http://127.0.0.1:${listen}/`, tally, stop, i + 1));
        const outcomes: { code: number | null; out: string; primaryBefore: number }[] = [];
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          if (cycle > 0) {
            app = start();
            await ready(app);
          }
          await sleep(700);
          const primaryBefore = tally.primary;
          app.child.kill("SIGTERM");
          const code = await exited(app.child);
          outcomes.push({ code, out: app.out, primaryBefore });
          await sleep(300);
        }
        stop.now = true;
        await Promise.all(clients);
        const log = fs.readFileSync(path.join(dir, "error.log"), "utf8");
        const premature = log.split("\n").filter((l) => /upstream/.test(l) && /\[error\]/.test(l) && !/Connection refused/.test(l));
        if (process.env.NGINX_TEST_LOG) console.log(premature.slice(0, 8).join("\n"));
        console.log(`${runtime} behind nginx, ${CYCLES} restarts: ${JSON.stringify({ ...tally, nginxUpstreamErrors: premature.length })}`);
        for (const o of outcomes) {
          assert.equal(o.code, 0, "anyserve did not exit cleanly on SIGTERM");
          assert.match(o.out, /closed \{"finished":\d+,"cut":0,"webSockets":\{"closed":0,"cut":0\}\}/);
        }
        assert.ok(outcomes.every((o, i) => o.primaryBefore > (outcomes[i - 1]?.primaryBefore ?? 0)), `anyserve took no request in some run: ${JSON.stringify(outcomes)}`);
        assert.ok(tally.backup > 0, `the backup took no request after anyserve stopped: ${JSON.stringify(tally)}`);
        assert.equal(tally.failed, 0, `requests failed at the client: ${JSON.stringify(tally)}`);
        assert.equal(tally.other, 0, `unexpected answers: ${JSON.stringify(tally)}`);
        assert.equal(tally.status5xx, 0, `nginx answered 5xx: ${JSON.stringify(tally)}\n${premature.slice(0, 5).join("\n")}`);
      } finally {
        stop.now = true;
        await Promise.all(clients);
        app.child.kill("SIGKILL");
        if (nginx !== null && nginx.exitCode === null) {
          nginx.kill("SIGTERM");
          await Promise.race([exited(nginx), sleep(3000)]);
          if (nginx.exitCode === null) nginx.kill("SIGKILL");
        }
        await new Promise((r) => backup.close(r));
        backup.closeAllConnections?.();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
