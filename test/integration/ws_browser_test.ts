/**
 * Headless Chromium (Debian's `chromium`) as a WebSocket client, with
 * permessage-deflate on and off: the server serves a page that opens a
 * WebSocket back to it through anyserve/hono's `upgradeWebSocket`, echoes
 * text and binary, and reports what it saw to `/report`. Skips when no
 * `chromium` binary is installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { upgradeWebSocket } from "../../src/hono.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const { serve } = runtime === "bun"
  ? await import("../../adapters/bun.ts")
  : runtime === "deno"
  ? await import("../../adapters/deno.ts")
  : await import("../../adapters/node.ts");

const CHROMIUM = ["chromium", "chromium-browser"].find((b) => spawnSync(b, ["--version"], { stdio: "ignore" }).status === 0);

const PAGE = `<!doctype html><script>
const ws = new WebSocket("ws://" + location.host + "/ws", ["chat"]);
ws.binaryType = "arraybuffer";
const got = [];
ws.onopen = () => { ws.send("hello ".repeat(2000)); ws.send(new Uint8Array([1, 2, 3])); };
ws.onmessage = (e) => {
  got.push(typeof e.data === "string" ? "text:" + e.data.length : "binary:" + new Uint8Array(e.data).join(","));
  if (got.length === 2) ws.close(1000, "done");
};
ws.onclose = (e) => fetch("/report", { method: "POST", body: JSON.stringify({ got, code: e.code, protocol: ws.protocol, extensions: ws.extensions }) });
ws.onerror = () => fetch("/report", { method: "POST", body: JSON.stringify({ error: true }) });
</script>`;

for (const deflate of [true, false]) {
  test(`${runtime} headless Chromium: echo through Hono upgradeWebSocket, permessage-deflate ${deflate ? "on" : "off"}`, {
    timeout: 60_000,
    skip: CHROMIUM === undefined && "no chromium binary (apt-get install chromium)",
  }, async () => {
    let report!: (r: unknown) => void;
    const reported = new Promise<Record<string, unknown>>((r) => (report = r as (r: unknown) => void));
    const closes: number[] = [];
    const app = new Hono();
    app.get("/", (c) => c.html(PAGE));
    app.post("/report", async (c) => {
      report(await c.req.json());
      return c.text("ok");
    });
    app.get("/ws", upgradeWebSocket(() => ({
      onMessage: (e, ws) => ws.send(e.data as string | ArrayBuffer),
      onClose: (e) => void closes.push(e.code),
    })));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1", websocket: { perMessageDeflate: deflate } });
    await server.ready;
    const profile = mkdtempSync(join(tmpdir(), "anyserve-chromium-"));
    const browser = spawn(CHROMIUM!, [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${server.port}/`,
    ], { stdio: "ignore" });
    try {
      const r = await reported;
      assert.deepEqual(r.got, ["text:12000", "binary:1,2,3"]);
      assert.equal(r.code, 1000);
      assert.equal(r.protocol, "chat");
      if (deflate) assert.match(String(r.extensions), /^permessage-deflate/);
      else assert.equal(r.extensions, "");
      // The browser's onclose (and so its report) can come before the server
      // has run its close handler; give it a moment, bounded.
      for (let i = 0; i < 100 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(closes, [1000]);
    } finally {
      const exited = new Promise<void>((r) => (browser.exitCode !== null ? r() : browser.once("exit", () => r())));
      browser.kill("SIGKILL");
      await exited;
      await server.close({ deadlineMs: 1000 });
      // Chromium's helper processes may still be writing the profile for a moment.
      await new Promise((r) => setTimeout(r, 200));
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      } catch {
        // A leftover temp directory is not the test's subject.
      }
    }
  });
}
