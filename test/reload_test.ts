/**
 * Zero-downtime reload under load: `anyserve --workers 2` on the runtime
 * running the test, SIGHUP to the supervisor while a bounded keep-alive
 * client (bench/reload_client.ts) checks every response; then a reload
 * whose new workers fail to start, which must keep the old ones serving.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime, startCli } from "./helpers/cli_proc.ts";
import { startLoad } from "../bench/reload_client.ts";

const fixture = "test/fixtures/cli/pid_app.ts";

async function pids(port: number, n = 12): Promise<Set<string>> {
  const seen = new Set<string>();
  // Fresh connections, so SO_REUSEPORT spreads them over the workers.
  for (let i = 0; i < n; i++) seen.add(await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } }).then((r) => r.text()));
  return seen;
}

async function until(what: () => boolean, ms: number, why: string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${why}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`reload on ${runtime}`, () => {
  it("SIGHUP replaces every worker with zero failed requests under keep-alive load", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "anyserve-reload-"));
    const run = startCli(["--hostname", "127.0.0.1", "--port", "0", "--workers", "2", "--shutdown-timeout-ms", "3000", fixture], { RELOAD_FAIL_FILE: join(dir, "fail") });
    try {
      const port = await run.listening;
      const before = await pids(port);
      const load = startLoad(port, 8, 1);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(run.child.pid!, "SIGHUP");
      await until(() => run.stderr().includes("reload done"), 60_000, "the reload");
      await new Promise((r) => setTimeout(r, 300));
      const counts = await load.stop();
      assert.equal(counts.failed, 0, `failed requests: ${counts.errors.join(", ")}`);
      assert.equal(counts.non2xx, 0);
      assert.ok(counts.ok > 0);
      const after = await pids(port);
      for (const pid of after) assert.ok(!before.has(pid), `pid ${pid} answered before and after the reload`);

      // A reload whose workers cannot start is aborted; the current ones keep serving.
      writeFileSync(join(dir, "fail"), "");
      process.kill(run.child.pid!, "SIGHUP");
      await until(() => run.stderr().includes("reload aborted"), 60_000, "the aborted reload");
      assert.match(run.stderr(), /reload aborted, the old workers keep serving: new worker \d \(pid \d+\) exited/);
      const still = await pids(port);
      for (const pid of still) assert.ok(after.has(pid), `pid ${pid} is not one of the workers before the failed reload`);
    } finally {
      // process.kill, not child.kill: Deno's ChildProcess sends only the first signal it is asked to.
      process.kill(run.child.pid!, "SIGTERM");
      await run.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
