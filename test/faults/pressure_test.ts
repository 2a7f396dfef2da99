/**
 * Faults under pressure (issue 10, items 4, 5, 6 and 10), black-box on real
 * sockets on whichever runtime runs this file (through `mod.ts`): clocks
 * while the server is the one not reading, `drop` eviction, clients that
 * pipeline large responses and never read.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { parseResponses } from "../helpers/raw_client.ts";
import { sleep, start, until } from "./helpers.ts";


interface Client {
  socket: net.Socket;
  text(): string;
  bytes(): number;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** A raw client; `read: false` leaves it paused (it reads nothing until `socket.resume()`). */
function client(port: number, input: string, read = true): Client {
  const socket = net.connect({ port, host: "127.0.0.1" });
  let text = "";
  let bytes = 0;
  let closed = false;
  const decoder = new TextDecoder("latin1");
  socket.on("data", (b: Uint8Array) => {
    bytes += b.length;
    text += decoder.decode(b);
  });
  socket.on("error", () => {});
  if (!read) socket.pause();
  const closedP = new Promise<void>((r) => socket.on("close", () => {
    closed = true;
    r();
  }));
  if (input !== "") socket.write(input);
  return { socket, text: () => text, bytes: () => bytes, closed: closedP, isClosed: () => closed };
}

const responses = (c: Client) => parseResponses(c.text());

describe("faults: the client's clocks stop while the server does not read (slow_down)", () => {
  it("an idle keep-alive connection that sends during a long gate is answered, and so is a head completed during it", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const server = await start({
      overloadStrategy: "slow_down",
      maxInFlightRequests: 1,
      keepAliveTimeoutMs: 1000,
      headersTimeoutMs: 1000,
      fetch: async (req) => {
        if (new URL(req.url).pathname === "/hold") await held;
        return new Response("ok");
      },
    });
    try {
      const idle = client(server.port, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => responses(idle).length === 1, 3000, "the first response");
      const partial = client(server.port, "GET /p HTTP/1.1\r\nHo");
      await until(() => server.stats().connections.byState.reading === 1, 3000, "the partial head is read");
      // Close the gate: one request holds the only slot, one more queues.
      const holder = client(server.port, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => server.stats().requests.inFlight === 1, 3000, "the holder runs");
      const queued = client(server.port, "GET /q HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => server.stats().requests.queued === 1, 3000, "the gate closes");
      idle.socket.write("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
      partial.socket.write("st: x\r\n\r\n");
      await sleep(2500); // past keepAliveTimeoutMs and headersTimeoutMs
      release();
      await until(() => responses(idle).length === 2, 5000, "the request sent during the gate is answered");
      assert.equal(responses(idle)[1].status, 200);
      await until(() => responses(partial).length === 1, 5000, "the head completed during the gate is answered");
      assert.equal(responses(partial)[0].status, 200);
      for (const c of [idle, partial, holder, queued]) c.socket.destroy();
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });
});

describe("faults: drop evicts only connections that served a request", () => {
  it("fresh connections are not evicted: the newcomer gets 503 and it is counted", async () => {
    const server = await start({ overloadStrategy: "drop", maxConnections: 2, fetch: () => new Response("ok") });
    try {
      const a = client(server.port, "");
      const b = client(server.port, "");
      await until(() => server.stats().connections.active === 2, 3000, "two connections");
      const c = client(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await c.closed;
      assert.equal(responses(c)[0]?.status, 503);
      assert.equal(server.stats().connections.refused, 1);
      // The first two, whose requests were on their way, are served.
      a.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      b.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => responses(a).length === 1 && responses(b).length === 1, 3000, "both answered");
      assert.equal(responses(a)[0].status, 200);
      assert.equal(responses(b)[0].status, 200);
      a.socket.destroy();
      b.socket.destroy();
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });

  it("an idle connection that served a request is evicted for the newcomer", async () => {
    const server = await start({ overloadStrategy: "drop", maxConnections: 2, fetch: () => new Response("ok") });
    try {
      const served = client(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => responses(served).length === 1, 3000, "the first is served");
      const fresh = client(server.port, "");
      await until(() => server.stats().connections.active === 2, 3000, "two connections");
      const c = client(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => responses(c).length === 1, 3000, "the newcomer is answered");
      assert.equal(responses(c)[0].status, 200);
      await served.closed;
      fresh.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => responses(fresh).length === 1, 3000, "the fresh one is served");
      assert.equal(server.stats().connections.refused, 0);
      fresh.socket.destroy();
      c.socket.destroy();
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });
});

const MIB = 1024 * 1024;

describe("faults: clients that pipeline large responses and never read", () => {
  it("handlers stop being called past maxQueuedResponseBytes, and everything is answered once the client reads", async () => {
    let calls = 0;
    const big = new Uint8Array(MIB).fill(0x61);
    const server = await start({
      maxQueuedResponseBytes: MIB,
      fetch: () => {
        calls++;
        return new Response(big.slice());
      },
    });
    try {
      const n = 64;
      const c = client(server.port, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(n), false);
      await sleep(1500);
      // Only what the kernel's buffers took, plus about one bound: far from all 64 MiB.
      assert.ok(calls < 32, `${calls} handlers called for a client that reads nothing`);
      c.socket.resume();
      await until(() => c.bytes() >= n * MIB, 20_000, "every response arrives");
      await until(() => responses(c).length === n, 5000, "64 complete responses");
      assert.equal(calls, n);
      c.socket.destroy();
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });

  it("the headers clock stops while the server waits to write: a partial head is not timed out", async () => {
    // One response larger than any socket buffer, written in one go: the
    // pipeline is empty and the write blocked while the next head trickles.
    const big = new Uint8Array(16 * MIB).fill(0x62);
    const server = await start({
      headersTimeoutMs: 1000,
      maxQueuedResponseBytes: 64 * MIB, // this test is about the headers clock alone
      fetch: (req) => new URL(req.url).pathname === "/big" ? new Response(big.slice()) : new Response("small"),
    });
    try {
      const n = 1;
      const c = client(server.port, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /small HTTP/1.1\r\nHo", false);
      await sleep(2500);
      c.socket.resume();
      await until(() => c.bytes() >= 16 * MIB, 20_000, "the large response arrives");
      await sleep(200);
      c.socket.write("st: x\r\n\r\n");
      await until(() => responses(c).length === n + 1, 5000, "the last response");
      assert.equal(responses(c)[n].status, 200);
      c.socket.destroy();
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });

  it("a connection stuck writing with a partial head is counted once in timedOut", async () => {
    const big = new Uint8Array(16 * MIB).fill(0x63);
    const server = await start({
      headersTimeoutMs: 1000,
      writeTimeoutMs: 2000,
      maxQueuedResponseBytes: 64 * MIB,
      fetch: () => new Response(big.slice()),
    });
    try {
      const c = client(server.port, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /big HTTP/1.1\r\nHo", false);
      await until(() => server.stats().connections.active === 0 && server.stats().connections.total === 1, 8000, "the write timeout cuts it");
      assert.equal(server.stats().connections.timedOut, 1);
      c.socket.destroy();
    } finally {
      await server.close({ deadlineMs: 100 });
    }
  });
});
