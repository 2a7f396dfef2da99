/**
 * Health and readiness routes, `server.state`, and the access log, on the
 * runtime running the test (in-process servers on 127.0.0.1).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { serve } from "../mod.ts";
import type { AccessLogEntry } from "../src/access_log.ts";
import { commonLine } from "../src/access_log.ts";

/** One raw request on a fresh connection; resolves with the whole response text. */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    s.setEncoding("utf8").on("data", (d: string) => (text += d));
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
}

describe("health and readiness", () => {
  it("answers /readyz and /healthz before the app, and stops being ready when close() begins", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const server = serve({
      hostname: "127.0.0.1",
      port: 0,
      health: { path: "/healthz", ready: "/readyz" },
      fetch: async (req) => {
        if (new URL(req.url).pathname === "/slow") await held;
        return new Response("app");
      },
    });
    assert.equal(server.state, "starting");
    await server.ready;
    assert.equal(server.state, "ready");
    const port = server.port;
    let r = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "ready\n");
    r = await fetch(`http://127.0.0.1:${port}/healthz?x=1`);
    assert.equal(r.status, 200);
    const health = await r.json();
    assert.equal(health.status, "ready");
    assert.equal(typeof health.requests.total, "number");
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/readyzz`)).text(), "app");

    // A request in flight keeps the server draining; a probe on a connection opened before close sees 503.
    const probe = connect(port, "127.0.0.1");
    await new Promise<void>((r) => probe.once("connect", () => r()));
    const slow = fetch(`http://127.0.0.1:${port}/slow`).then((x) => x.text());
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close({ deadlineMs: 5000 });
    assert.equal(server.state, "draining");
    const answer = new Promise<string>((resolve) => {
      let text = "";
      probe.setEncoding("utf8").on("data", (d: string) => (text += d));
      probe.on("close", () => resolve(text));
      probe.on("error", () => resolve(text));
    });
    probe.write("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await answer;
    // Either the probe was answered 503 (draining), or the idle connection was closed unanswered: never 200.
    assert.doesNotMatch(text, /^HTTP\/1\.1 200/);
    if (text !== "") assert.match(text, /^HTTP\/1\.1 503/);
    release();
    assert.equal(await slow, "app");
    await closing;
    assert.equal(server.state, "closed");
  });

  it("health: true uses /healthz and /readyz; off by default", async () => {
    const on = serve({ hostname: "127.0.0.1", port: 0, health: true, fetch: () => new Response("app") });
    const off = serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("app") });
    await Promise.all([on.ready, off.ready]);
    assert.match(await rawGet(on.port, "/readyz"), /^HTTP\/1\.1 200[\s\S]*ready\n$/);
    assert.match(await rawGet(off.port, "/readyz"), /\r\n\r\napp$/);
    await Promise.all([on.close(), off.close()]);
    assert.throws(() => serve({ port: 0, health: { path: "healthz" }, fetch: () => new Response("") }), /health\.path/);
  });
});

describe("access log", () => {
  it("gives one entry per answered request to a function", async () => {
    const entries: AccessLogEntry[] = [];
    const server = serve({
      hostname: "127.0.0.1",
      port: 0,
      accessLog: (e) => entries.push(e),
      fetch: (req) => new Response("hello", { status: new URL(req.url).pathname === "/missing" ? 404 : 200 }),
    });
    await server.ready;
    await rawGet(server.port, "/a?b=1");
    await rawGet(server.port, "/missing");
    await server.close();
    assert.equal(entries.length, 2);
    const [a, b] = entries;
    assert.equal(a.method, "GET");
    assert.equal(a.target, "/a?b=1");
    assert.equal(a.status, 200);
    assert.equal(a.bytes, 5);
    assert.equal(a.remoteAddress, "127.0.0.1");
    assert.equal(a.worker, 0);
    assert.ok(a.durationMs >= 0);
    assert.ok(!Number.isNaN(Date.parse(a.time)));
    assert.equal(b.status, 404);
  });

  it("formats Common Log Format lines", () => {
    const line = commonLine(
      { time: "2000-10-10T13:55:36.000Z", method: "GET", target: "/x", status: 200, bytes: 12, durationMs: 1.5, remoteAddress: "10.0.0.1", worker: 2 },
      "1.1",
    );
    assert.equal(line, '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /x HTTP/1.1" 200 12 1.500 2');
  });

  it("refuses a bad accessLog value", () => {
    assert.throws(() => serve({ port: 0, accessLog: "xml" as "json", fetch: () => new Response("") }), /Invalid accessLog/);
  });
});
