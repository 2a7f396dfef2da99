/**
 * Overload, timeouts and statistics, on real sockets: each backpressure
 * strategy under a burst beyond its limits, the connection limit, a client
 * that never reads, slow bodies, and the stats the server reports. Run on
 * every runtime by the `*_test.ts` entries, like `suite.ts`.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import type { Server, ServeOptions } from "../../mod.ts";
import { toPrometheus } from "../../mod.ts";
import { parseResponses, rawRequest } from "../helpers/raw_client.ts";

type ServeFn = (options: ServeOptions) => Server;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A handler whose requests wait until `release()`; `/fast` answers at once. */
function gatedApp() {
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const started: string[] = [];
  return {
    started,
    release() {
      open();
      gate = new Promise<void>((r) => (open = r));
    },
    fetch: async (req: Request) => {
      const path = new URL(req.url).pathname;
      if (path === "/fast") return new Response("fast");
      started.push(path);
      await gate;
      return new Response(`done ${path}`);
    },
  };
}

/** Opens a connection, sends one request, resolves with the first complete response. */
function send(port: number, path: string, extra = ""): { result: Promise<{ status: number; body: string; headers: Record<string, string> }>; socket: net.Socket } {
  const socket = net.connect({ port, host: "127.0.0.1" });
  let text = "";
  const result = new Promise<{ status: number; body: string; headers: Record<string, string> }>((resolve, reject) => {
    socket.on("data", (b: Buffer) => {
      text += b.toString("latin1");
      const rs = parseResponses(text);
      if (rs.length > 0 && (rs[0].body.length >= Number(rs[0].headers["content-length"] ?? 0))) resolve(rs[0]);
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed without a response to ${path}: ${JSON.stringify(text)}`)));
  });
  result.catch(() => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`);
  return { result, socket };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

/** Defines the overload suite against `serve`. */
export function defineOverloadSuite(runtime: string, serve: ServeFn): void {
  describe(`anyserve on ${runtime}: backpressure`, () => {
    async function start(options: Partial<ServeOptions>, app = gatedApp()) {
      const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1", ...options });
      await server.ready;
      return { server, app, port: server.port };
    }

    it("reject: over maxInFlightRequests answers 503 with Retry-After at once, keeps the connection", async () => {
      const { server, app, port } = await start({ overloadStrategy: "reject", maxInFlightRequests: 2, retryAfterSeconds: 3 });
      try {
        const a = send(port, "/a");
        const b = send(port, "/b");
        await until(() => app.started.length === 2);
        const c = send(port, "/c");
        const rc = await c.result;
        assert.equal(rc.status, 503);
        assert.equal(rc.headers["retry-after"], "3");
        assert.notEqual(rc.headers["connection"], "close");
        // The refused client's connection still works once there is room.
        app.release();
        assert.equal((await a.result).body, "done /a");
        assert.equal((await b.result).body, "done /b");
        c.socket.write("GET /fast HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        const again = await new Promise<string>((r) => {
          let t = "";
          c.socket.on("data", (d: Buffer) => (t += d.toString()));
          c.socket.on("close", () => r(t));
        });
        assert.match(again, /fast$/);
        assert.equal(server.stats().requests.refused, 1);
        for (const x of [a, b]) x.socket.destroy();
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("drop: a full queue drops its oldest request (503) to admit the newest", async () => {
      const { server, app, port } = await start({ overloadStrategy: "drop", maxInFlightRequests: 1, maxQueuedRequests: 2 });
      try {
        const r1 = send(port, "/1");
        await until(() => app.started.length === 1);
        const r2 = send(port, "/2");
        await sleep(30);
        const r3 = send(port, "/3");
        await sleep(30);
        const r4 = send(port, "/4");
        assert.equal((await r2.result).status, 503);
        app.release();
        await until(() => app.started.length >= 2);
        app.release();
        await until(() => app.started.length >= 3);
        app.release();
        const bodies = [(await r1.result).body, (await r3.result).body, (await r4.result).body];
        assert.deepEqual(bodies, ["done /1", "done /3", "done /4"]);
        assert.equal(server.stats().requests.dropped, 1);
        for (const x of [r1, r2, r3, r4]) x.socket.destroy();
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("slow_down: over the limit stops reading and parks new connections, refuses nothing", async () => {
      const { server, app, port } = await start({ overloadStrategy: "slow_down", maxInFlightRequests: 1, maxQueuedRequests: 50 });
      try {
        const r1 = send(port, "/1");
        await until(() => app.started.length === 1);
        const r2 = send(port, "/2");
        await until(() => server.stats().requests.queued === 1);
        const r3 = send(port, "/3"); // arrives while reading is stopped
        await sleep(50);
        assert.equal(app.started.length, 1, "nothing else may start while the first is running");
        const releaser = setInterval(() => app.release(), 10);
        try {
          const bodies = [(await r1.result).body, (await r2.result).body, (await r3.result).body];
          assert.deepEqual(bodies.sort(), ["done /1", "done /2", "done /3"]);
        } finally {
          clearInterval(releaser);
        }
        const s = server.stats();
        assert.equal(s.requests.refused + s.requests.dropped + s.requests.shed, 0);
        for (const x of [r1, r2, r3]) x.socket.destroy();
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("shed_load: a full queue refuses the lowest-priority request first", async () => {
      const { server, app, port } = await start({
        overloadStrategy: "shed_load",
        maxInFlightRequests: 1,
        maxQueuedRequests: 1,
        priority: (req) => Number(req.headers.get("x-priority") ?? 0),
      });
      try {
        const r1 = send(port, "/running");
        await until(() => app.started.length === 1);
        const low = send(port, "/low", "X-Priority: 1\r\n");
        await until(() => server.stats().requests.queued === 1);
        const high = send(port, "/high", "X-Priority: 9\r\n");
        assert.equal((await low.result).status, 503);
        const releaser = setInterval(() => app.release(), 10);
        try {
          assert.equal((await r1.result).body, "done /running");
          assert.equal((await high.result).body, "done /high");
        } finally {
          clearInterval(releaser);
        }
        assert.equal(server.stats().requests.shed, 1);
        for (const x of [r1, low, high]) x.socket.destroy();
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("maxConnections: a connection over the limit gets 503 and is closed", async () => {
      const { server, port } = await start({ overloadStrategy: "reject", maxConnections: 2 });
      try {
        const a = net.connect({ port, host: "127.0.0.1" });
        const b = net.connect({ port, host: "127.0.0.1" });
        await until(() => server.stats().connections.active === 2);
        const third = await rawRequest(port, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
        assert.match(third.text, /^HTTP\/1\.1 503 /);
        assert.equal(third.closed, true);
        assert.equal(server.stats().connections.refused, 1);
        a.destroy();
        b.destroy();
        await until(() => server.stats().connections.active === 0);
        const ok = await rawRequest(port, "GET /fast HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.match(ok.text, /fast$/);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    for (const strategy of ["reject", "drop", "slow_down", "shed_load"] as const) {
      it(`${strategy}: a flood beyond the limits gets every request answered (200 or 503), none lost`, async () => {
        const server = serve({
          fetch: async () => {
            await sleep(1);
            return new Response("ok");
          },
          port: 0,
          hostname: "127.0.0.1",
          overloadStrategy: strategy,
          maxInFlightRequests: 8,
          maxQueuedRequests: 16,
        });
        await server.ready;
        try {
          const clients = 40;
          const perClient = 10;
          const req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(perClient - 1) + "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
          const results = await Promise.all(
            Array.from({ length: clients }, () => rawRequest(server.port, req, { timeoutMs: 10000 })),
          );
          let ok = 0;
          let refused = 0;
          for (const r of results) {
            const rs = parseResponses(r.text);
            assert.equal(rs.length, perClient, "every pipelined request gets exactly one response");
            for (const x of rs) {
              if (x.status === 200) ok++;
              else if (x.status === 503) refused++;
              else assert.fail(`unexpected status ${x.status}`);
            }
          }
          assert.equal(ok + refused, clients * perClient);
          assert.ok(ok > 0);
          const s = server.stats();
          assert.equal(s.requests.refused + s.requests.dropped + s.requests.shed, refused);
          if (strategy === "slow_down") assert.equal(refused, 0);
        } finally {
          await server.close({ deadlineMs: 1000 });
        }
      });
    }

    it("frees connections whose clients reset in the middle of a streamed response", async () => {
      const chunk = new Uint8Array(1 << 20).fill(97);
      const server = serve({
        fetch: () =>
          new Response(new ReadableStream({
            async pull(c) {
              await sleep(1);
              c.enqueue(chunk);
            },
          })),
        port: 0,
        hostname: "127.0.0.1",
      });
      await server.ready;
      try {
        for (let i = 0; i < 20; i++) {
          const s = net.connect(server.port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
          s.on("error", () => {});
          setTimeout(() => s.resetAndDestroy(), 30);
        }
        await sleep(100);
        // Not the 30 s write timeout: the resets are noticed at once.
        await until(() => server.stats().connections.active === 0, 2000);
      } finally {
        await server.close({ deadlineMs: 200 });
      }
    });

    it("stops producing output for a client that never reads", async () => {
      const big = new Uint8Array(64 * 1024).fill(120);
      const server = serve({ fetch: () => new Response(big), port: 0, hostname: "127.0.0.1" });
      await server.ready;
      const socket = net.connect({ port: server.port, host: "127.0.0.1" });
      try {
        await new Promise((r) => socket.on("connect", r));
        socket.pause(); // never read
        socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(2000));
        await sleep(500);
        const s = server.stats();
        // 2000 responses would be 128 MiB; the server must have stopped far earlier.
        assert.ok(s.bytes.out < 32 * 1024 * 1024, `sent ${s.bytes.out} bytes to a client that reads nothing`);
        assert.ok(s.requests.total < 2000, `parsed ${s.requests.total} requests it could not answer`);
        assert.equal(s.connections.byState.writing, 1);
      } finally {
        socket.destroy();
        await server.close({ deadlineMs: 500 });
      }
    });
  });

  describe(`anyserve on ${runtime}: timeouts and statistics`, () => {
    it("answers 408 to a body that arrives too slowly, while serving others", async () => {
      const server = serve({
        fetch: async (req) => new Response(await req.text()),
        port: 0,
        hostname: "127.0.0.1",
        headersTimeoutMs: 200,
        minBodyBytesPerSecond: 1000,
      });
      await server.ready;
      try {
        const pieces = ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"];
        for (let i = 0; i < 30; i++) pieces.push("x");
        const slow = rawRequest(server.port, "", { pieces, pieceDelayMs: 100, timeoutMs: 5000 });
        const normal = await rawRequest(server.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        assert.match(normal.text, /ok$/);
        const r = await slow;
        assert.match(r.text, /^HTTP\/1\.1 408 /);
        assert.equal(r.closed, true);
        assert.ok(server.stats().connections.timedOut >= 1);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("closes idle keep-alive connections after keepAliveTimeoutMs", async () => {
      const server = serve({ fetch: () => new Response("ok"), port: 0, hostname: "127.0.0.1", keepAliveTimeoutMs: 100 });
      await server.ready;
      try {
        const r = await rawRequest(server.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 4000 });
        assert.match(r.text, /ok$/);
        assert.equal(r.closed, true, "the idle connection was closed by the server");
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("reports statistics as JSON and Prometheus text", async () => {
      const server = serve({
        fetch: (req) => new URL(req.url).pathname === "/missing" ? new Response("no", { status: 404 }) : new Response("ok"),
        port: 0,
        hostname: "127.0.0.1",
      });
      await server.ready;
      try {
        await rawRequest(server.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        await rawRequest(server.port, "GET / HTTP/9.9\r\n\r\n");
        await until(() => server.stats().connections.active === 0);
        const s = server.stats();
        assert.equal(s.requests.total, 4);
        assert.equal(s.requests.byStatusClass["2xx"], 2);
        assert.equal(s.requests.byStatusClass["4xx"], 1);
        assert.equal(s.requests.byStatusClass["5xx"], 1);
        assert.equal(s.connections.total, 2);
        assert.equal(s.latencyMs.count, 4);
        assert.ok(s.bytes.in > 0 && s.bytes.out > 0);
        assert.ok(s.latencyMs.p99 >= s.latencyMs.p50);
        const text = toPrometheus(s);
        assert.match(text, /^anyserve_requests_total 4$/m);
        assert.match(text, /^anyserve_responses_total\{class="2xx"\} 2$/m);
        assert.match(text, /^anyserve_request_duration_seconds_count 4$/m);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("close() under steady load: every request fully received gets a complete response", async () => {
      const server = serve({
        fetch: async () => {
          await sleep(2);
          return new Response("x".repeat(100));
        },
        port: 0,
        hostname: "127.0.0.1",
      });
      await server.ready;
      const port = server.port;
      let stop = false;
      let completed = 0;
      let failedAfterAccept = 0;
      const loops = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const r = await rawRequest(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(5), { timeoutMs: 3000, until: (t) => parseResponses(t).length === 5 }).catch(() => null);
          if (r === null) break;
          const rs = parseResponses(r.text);
          for (const x of rs) {
            if (x.status === 200 && x.body.length === 100) completed++;
            else failedAfterAccept++;
          }
          // A connection accepted before shutdown must not lose requests it sent.
          if (r.text.length > 0 && rs.length < 5 && !r.text.includes("Connection: close") && !/connection: close/i.test(r.text)) failedAfterAccept++;
          if (r.text.length === 0) break; // refused after the listener closed: fine
        }
      });
      await sleep(200);
      const summary = await server.close({ deadlineMs: 2000 });
      stop = true;
      await Promise.all(loops);
      assert.ok(completed > 0);
      assert.equal(failedAfterAccept, 0);
      assert.equal(summary.cut, 0);
    });
  });
}
