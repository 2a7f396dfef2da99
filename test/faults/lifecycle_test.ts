/**
 * Faults in a request's life (issue 10, items 1, 4, 5, 8, 9, 10), black-box
 * on real sockets, on whichever runtime runs this file (through `mod.ts`):
 * handlers that never settle, clients that leave (FIN or RST) while the
 * server holds their connection unread, the overload strategies under both,
 * and the counts the server reports about it all.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import type { OverloadStrategy } from "../../mod.ts";
import { parseResponses } from "../helpers/raw_client.ts";
import { sleep, start, until } from "./helpers.ts";


interface Client {
  socket: net.Socket;
  /** Everything received so far. */
  text(): string;
  closed: Promise<void>;
}

/** A raw client that sends `input` and collects what comes back. */
function client(port: number, input: string): Client {
  const socket = net.connect({ port, host: "127.0.0.1" });
  let text = "";
  socket.on("data", (b: Uint8Array) => (text += new TextDecoder("latin1").decode(b)));
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  if (input !== "") socket.write(input);
  return { socket, text: () => text, closed };
}

/** Resolves with the first response on a fresh connection to `path`, or rejects after `ms`. */
async function get(port: number, path: string, ms = 10_000): Promise<{ status: number; body: string }> {
  const c = client(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  try {
    await until(() => {
      const rs = parseResponses(c.text());
      return rs.length > 0 && rs[0].body.length >= Number(rs[0].headers["content-length"] ?? 0);
    }, ms, `a response to ${path}`);
    return parseResponses(c.text())[0];
  } finally {
    c.socket.destroy();
  }
}

/** Leaves with an RST where the runtime's `net` can send one, else with FIN. */
function reset(socket: net.Socket): void {
  const s = socket as net.Socket & { resetAndDestroy?: () => void };
  if (typeof s.resetAndDestroy === "function") s.resetAndDestroy();
  else s.destroy();
}

const STRATEGY_LIST: OverloadStrategy[] = ["slow_down", "reject", "drop", "shed_load"];

describe("faults: handlers that never settle", () => {
  it("handlerTimeoutMs answers 503, aborts request.signal and frees the slot", async () => {
    let aborted = 0;
    const server = await start({
      handlerTimeoutMs: 1000,
      maxInFlightRequests: 1,
      fetch: (req) => {
        if (new URL(req.url).pathname === "/fast") return new Response("fast");
        req.signal.addEventListener("abort", () => aborted++);
        return new Promise<Response>(() => {});
      },
    });
    try {
      const r = await get(server.port, "/hang", 8000);
      assert.equal(r.status, 503);
      await until(() => aborted === 1, 2000, "the handler's signal aborts");
      assert.equal(server.stats().requests.inFlight, 0);
      assert.equal((await get(server.port, "/fast")).status, 200);
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });

  for (const strategy of STRATEGY_LIST) {
    it(`${strategy}: two never-settling handlers and one more request: the server is not wedged`, async () => {
      let started = 0;
      const server = await start({
        overloadStrategy: strategy,
        maxInFlightRequests: 2,
        handlerTimeoutMs: 1000,
        fetch: (req) => {
          if (new URL(req.url).pathname === "/fast") return new Response("fast");
          started++;
          return new Promise<Response>(() => {}); // ignores its signal too
        },
      });
      try {
        const a = client(server.port, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        const b = client(server.port, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        await until(() => started === 2, 3000, "both handlers run");
        const third = client(server.port, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
        // Answered: 200 once a slot is free, or 503 at once (reject).
        await until(() => parseResponses(third.text()).length > 0, 8000, "an answer to the third request");
        third.socket.destroy();
        await until(() => parseResponses(a.text()).length > 0 && parseResponses(b.text()).length > 0, 4000, "the hung ones are answered");
        assert.equal(parseResponses(a.text())[0].status, 503);
        await until(() => server.stats().requests.inFlight === 0, 4000, "the slots are freed");
        assert.equal((await get(server.port, "/fast", 5000)).status, 200);
        a.socket.destroy();
        b.socket.destroy();
      } finally {
        await server.close({ deadlineMs: 100 });
      }
    });

    it(`${strategy}: never-settling handlers whose clients reset keep their slot only until handlerTimeoutMs`, async () => {
      let started = 0;
      const server = await start({
        overloadStrategy: strategy,
        maxInFlightRequests: 2,
        handlerTimeoutMs: 1000,
        fetch: (req) => {
          if (new URL(req.url).pathname === "/fast") return new Response("fast");
          started++;
          return new Promise<Response>(() => {});
        },
      });
      try {
        const a = client(server.port, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        const b = client(server.port, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        await until(() => started === 2, 3000, "both handlers run");
        reset(a.socket);
        reset(b.socket);
        await until(() => server.stats().connections.active === 0, 3000, "the resets are noticed");
        // The handlers still run: their slots are theirs until the handler timeout.
        assert.equal(server.stats().requests.inFlight, 2);
        await until(() => server.stats().requests.inFlight === 0, 4000, "the slots are freed at handlerTimeoutMs");
        assert.equal((await get(server.port, "/fast", 5000)).status, 200);
      } finally {
        await server.close({ deadlineMs: 100 });
      }
    });
  }
});

describe("faults: a client that leaves frees what it held", () => {
  for (const strategy of STRATEGY_LIST) for (const how of ["RST", "FIN"] as const) {
    it(`${strategy}: handlers that honour request.signal free their slot when their client leaves (${how})`, async () => {
      let started = 0;
      let abortedCount = 0;
      const server = await start({
        overloadStrategy: strategy,
        maxInFlightRequests: 2,
        handlerTimeoutMs: 60_000, // far beyond this test: only the client's leaving frees the slots
        fetch: (req) => {
          if (new URL(req.url).pathname === "/fast") return new Response("fast");
          started++;
          return new Promise<Response>((resolve) => {
            req.signal.addEventListener("abort", () => {
              abortedCount++;
              resolve(new Response("late"));
            });
          });
        },
      });
      try {
        const a = client(server.port, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
        const b = client(server.port, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
        await until(() => started === 2, 3000, "both handlers run");
        const queued = strategy === "reject" ? null : client(server.port, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
        if (queued !== null) await until(() => server.stats().requests.queued === 1, 3000, "the third request queues");
        const t0 = performance.now();
        if (how === "RST") {
          reset(a.socket);
          reset(b.socket);
        } else {
          a.socket.end();
          b.socket.end();
        }
        await until(() => abortedCount === 2, 5000, "both handlers see their signal abort");
        if (queued !== null) {
          await until(() => parseResponses(queued.text()).length > 0, 5000, "the queued request is answered");
          assert.equal(parseResponses(queued.text())[0].status, 200);
          queued.socket.destroy();
        }
        await until(() => server.stats().requests.inFlight === 0, 3000, "the slots are freed");
        if (process.env.FAULTS_REPORT) console.log(`slot freed ${how} ${strategy}: ${(performance.now() - t0).toFixed(1)} ms`);
        assert.equal(server.stats().requests.queued, 0);
      } finally {
        await server.close({ deadlineMs: 100 });
      }
    });
  }
});

describe("faults: what the server counts", () => {
  it("close(): requests cut at the deadline count as cut, not finished", async () => {
    let started = 0;
    const server = await start({
      fetch: async (req) => {
        started++;
        if (new URL(req.url).pathname === "/soon") {
          await sleep(100);
          return new Response("soon");
        }
        return new Promise<Response>(() => {});
      },
    });
    const clients = [1, 2, 3].map(() => client(server.port, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"));
    const soon = client(server.port, "GET /soon HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => started === 4, 3000, "every handler runs");
    const summary = await server.close({ deadlineMs: 600 });
    assert.deepEqual(summary, { finished: 1, cut: 3, webSockets: { closed: 0, cut: 0 } });
    assert.equal(parseResponses(soon.text()).length, 1);
    for (const c of clients) {
      await c.closed;
      assert.equal(c.text(), "");
    }
  });

  it("stats.requests.errors counts the 500s clients got, not failures nobody saw", async () => {
    let failures = 0;
    const server = await start({
      handlerTimeoutMs: 1000,
      fetch: async (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/throw") throw new Error("boom (expected by the test)");
        if (path === "/late-throw") {
          await sleep(150);
          failures++;
          throw new Error("late boom (expected by the test)");
        }
        if (path === "/bad-head") return new Response("x", { headers: { "x-a": "ok" }, statusText: "OK\r\nX-Injected: 1" });
        if (path === "/hang") return new Promise<Response>(() => {});
        return new Response("ok");
      },
    });
    const errorLog = console.error;
    console.error = () => {};
    try {
      assert.equal((await get(server.port, "/throw")).status, 500);
      // The client leaves before its handler fails: nobody sees a 500.
      const gone = client(server.port, "GET /late-throw HTTP/1.1\r\nHost: x\r\n\r\n");
      await sleep(30);
      reset(gone.socket);
      await until(() => failures === 1, 3000, "the late handler fails");
      await sleep(50);
      // A handler timeout is a 503, not an error of the handler's.
      assert.equal((await get(server.port, "/hang", 5000)).status, 503);
      assert.equal((await get(server.port, "/ok")).status, 200);
      const s = server.stats();
      assert.equal(s.requests.errors, 1);
      assert.equal(s.requests.byStatusClass["5xx"], 2); // the 500 and the 503
    } finally {
      console.error = errorLog;
      await server.close({ deadlineMs: 100 });
    }
  });
});

describe("faults: a client that resets while its unread body holds the connection paused", () => {
  it("the handler's signal aborts at once, and its slot is kept until the handler is done", async () => {
    let aborted = false;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const server = await start({
      fetch: async (req) => {
        // Reads nothing of its body: the connection pauses for it.
        await new Promise<void>((r) => req.signal.addEventListener("abort", () => r()));
        aborted = true;
        await done;
        return new Response("late");
      },
    });
    try {
      const c = client(server.port, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
      c.socket.write(new Uint8Array(1024 * 1024));
      await until(() => server.stats().requests.inFlight === 1, 3000, "the handler runs");
      await sleep(300);
      reset(c.socket);
      // requestTimeoutMs is 60 s: only noticing the reset ends this in time.
      await until(() => aborted, 5000, "the handler's signal aborts");
      assert.equal(server.stats().requests.inFlight, 1, "the slot is the handler's until it is done");
      finish();
      await until(() => server.stats().requests.inFlight === 0, 3000, "the slot is freed when the handler is done");
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });
});

describe("faults: reset storms leave nothing behind", () => {
  for (const strategy of STRATEGY_LIST) {
    it(`${strategy}: 200 clients that reset mid-request, mid-body and mid-queue`, async () => {
      const server = await start({
        overloadStrategy: strategy,
        maxInFlightRequests: 4,
        maxQueuedRequests: 8,
        fetch: async (req) => {
          const path = new URL(req.url).pathname;
          if (path === "/fast") return new Response("fast");
          if (path === "/body") await req.arrayBuffer().catch(() => {});
          else await new Promise<void>((r) => {
            const t = setTimeout(r, 50);
            req.signal.addEventListener("abort", () => (clearTimeout(t), r()));
          });
          return new Response("ok");
        },
      });
      try {
        const inputs = [
          "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
          "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "a".repeat(3000),
          "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
          "GET /slow HTTP/1.1\r\nHo",
        ];
        const all: Client[] = [];
        for (let i = 0; i < 200; i++) {
          const c = client(server.port, inputs[i % inputs.length]);
          all.push(c);
          setTimeout(() => reset(c.socket), i % 20);
          if (i % 20 === 19) await sleep(5);
        }
        await Promise.all(all.map((c) => c.closed));
        await until(() => {
          const s = server.stats();
          return s.requests.inFlight === 0 && s.requests.queued === 0 && s.connections.active === 0;
        }, 10_000, `nothing held after the storm: ${JSON.stringify(server.stats().requests)}`);
        assert.equal((await get(server.port, "/fast", 5000)).status, 200);
      } finally {
        await server.close({ deadlineMs: 100 });
      }
    });
  }
});
