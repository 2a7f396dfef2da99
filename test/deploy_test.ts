/**
 * The deploy recipes in examples/deploy/: the Kubernetes manifest's shape
 * (written as JSON-compatible YAML, parsed as JSON: there is no YAML
 * package here), HAProxy's config (`haproxy -c`), and a rolling restart of
 * two anyserve instances behind nginx under load, on the runtime running
 * the test, with zero failed requests and zero 5xx. Tools that are missing
 * skip their test with the reason.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ROOT, runtime, startCli } from "./helpers/cli_proc.ts";
import { startLoad } from "../bench/reload_client.ts";

const DEPLOY = join(ROOT, "examples/deploy");
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("deploy recipes", () => {
  it("the Kubernetes Deployment has the probes, preStop, and a grace period above the drain", () => {
    const m = JSON.parse(readFileSync(join(DEPLOY, "k8s.yaml"), "utf8"));
    assert.equal(m.apiVersion, "apps/v1");
    assert.equal(m.kind, "Deployment");
    const pod = m.spec.template.spec;
    assert.deepEqual(m.spec.selector.matchLabels, m.spec.template.metadata.labels);
    const c = pod.containers[0];
    assert.equal(c.readinessProbe.httpGet.path, "/readyz");
    assert.equal(c.livenessProbe.httpGet.path, "/healthz");
    assert.ok(c.args.includes("--health"));
    const port = c.env.find((e: { name: string }) => e.name === "PORT").value;
    assert.equal(Number(port), c.ports[0].containerPort);
    const shutdownMs = Number(c.args[c.args.indexOf("--shutdown-timeout-ms") + 1]);
    const preStopS = Number(c.lifecycle.preStop.exec.command[1]);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > shutdownMs + preStopS * 1000, "grace period must cover preStop plus the drain");
  });

  it("the Dockerfiles run the command with --health", () => {
    for (const rt of ["node", "bun", "deno"]) {
      const text = readFileSync(join(DEPLOY, `Dockerfile.${rt}`), "utf8");
      assert.match(text, /^ENTRYPOINT \[/m, rt);
      assert.match(text, /CMD \["--health", "app.ts"\]/, rt);
    }
  });

  it("HAProxy accepts haproxy.cfg", { skip: has("haproxy") ? false : "haproxy is not installed" }, () => {
    const r = spawnSync("haproxy", ["-c", "-f", join(DEPLOY, "haproxy.cfg")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it(`rolling restart of two instances behind nginx, zero failed (${runtime})`, { skip: has("nginx") ? false : "nginx is not installed", timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "anyserve-nginx-"));
    const [a, b, front] = [await freePort(), await freePort(), await freePort()];
    const conf = readFileSync(join(DEPLOY, "nginx.conf"), "utf8")
      .replace("127.0.0.1:3001", `127.0.0.1:${a}`)
      .replace("127.0.0.1:3002", `127.0.0.1:${b}`)
      .replace("error_log stderr warn;", `error_log ${dir}/error.log warn;`)
      .replace("listen 8080;", `listen 127.0.0.1:${front};\n    client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`);
    writeFileSync(join(dir, "nginx.conf"), conf);
    const nginx = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "inherit", "inherit"] });
    const start = (port: number) => startCli(["--hostname", "127.0.0.1", "--port", String(port), "--health", "examples/deploy/app.ts"]);
    const instances = [start(a), start(b)];
    try {
      await Promise.all(instances.map((i) => i.listening));
      // nginx is up once it answers.
      const until = Date.now() + 10_000;
      while (Date.now() < until && !(await fetch(`http://127.0.0.1:${front}/`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 100));
      const load = startLoad(front, 8, 1);
      for (const [k, port] of [a, b].entries()) {
        await new Promise((r) => setTimeout(r, 300));
        process.kill(instances[k].child.pid!, "SIGTERM");
        await instances[k].exited;
        instances[k] = start(port);
        await instances[k].listening;
      }
      await new Promise((r) => setTimeout(r, 300));
      const counts = await load.stop();
      assert.equal(counts.failed, 0, counts.errors.join(", "));
      assert.equal(counts.non2xx, 0, counts.errors.join(", "));
      assert.ok(counts.ok > 0);
    } finally {
      for (const i of instances) i.child.kill("SIGKILL");
      nginx.kill("SIGTERM");
      await new Promise((r) => nginx.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
