/**
 * The protocol seam on real sockets: a handler upgrades its connection to a
 * trivial echo protocol (`src/connection/protocol.ts`), and a 1xx answered
 * without an upgrade is a 500. Run on every runtime by the `*_test.ts`
 * entries, like `suite.ts`.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import type { Server, ServeOptions } from "../../mod.ts";
import type { Protocol, ProtocolEvents } from "../../src/connection/protocol.ts";
import { upgradeConnection } from "../../src/connection/protocol.ts";
import type { Socket } from "../../src/socket.ts";
import { rawRequest } from "../helpers/raw_client.ts";

type ServeFn = (options: ServeOptions) => Server;

const UPGRADE = "Host: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: echo\r\n\r\n";

/** Echoes every byte; says "bye" and ends on server shutdown. Records what happened. */
function echoProtocol(log: string[]): Protocol {
  return {
    attach(socket: Socket, buffered: Uint8Array): ProtocolEvents {
      log.push(`attach ${buffered.length}`);
      if (buffered.length > 0) socket.write(buffered);
      return {
        data: (bytes) => void socket.write(bytes),
        drain: () => {},
        end: () => {
          log.push("end");
          socket.end();
        },
        close: () => log.push("close"),
        shutdown: () => {
          log.push("shutdown");
          socket.write(new TextEncoder().encode("bye"));
          socket.end();
        },
      };
    },
  };
}

/** One client socket whose received bytes can be awaited. */
class Client {
  readonly socket: net.Socket;
  text = "";
  ended = false;
  #wake: (() => void) | null = null;

  constructor(port: number) {
    this.socket = net.connect({ port, host: "127.0.0.1" });
    this.socket.on("data", (b: Buffer) => {
      this.text += b.toString("latin1");
      this.#wake?.();
    });
    this.socket.on("end", () => {
      this.ended = true;
      this.#wake?.();
    });
    this.socket.on("close", () => {
      this.ended = true;
      this.#wake?.();
    });
    this.socket.on("error", () => {});
  }

  /** Resolves once `done(text)` holds; rejects after `ms`. */
  async until(done: (text: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!done(this.text)) {
      if (this.ended || Date.now() > deadline) throw new Error(`gave up waiting; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, 50);
      });
    }
    return this.text;
  }

  async closed(ms = 3000): Promise<void> {
    await this.until(() => this.ended, ms).catch(() => {});
    assert.ok(this.ended, "the server closed the connection");
  }
}

function upgradeServer(serve: ServeFn, log: string[]): Server {
  const protocol = echoProtocol(log);
  return serve({
    port: 0,
    hostname: "127.0.0.1",
    onError: () => new Response("handler failed", { status: 500 }),
    fetch: (req, env) => {
      const path = new URL(req.url).pathname;
      if (path === "/up") {
        const ok = upgradeConnection(env, req, protocol, [["x-extra", "1"]]);
        log.push(`upgrade ${ok}`);
        return new Response("this body is not sent", { headers: { "x-custom": "yes", upgrade: "echo", "content-length": "21" } });
      }
      if (path === "/up-later") {
        return new Promise<Response>((r) => setTimeout(r, 20)).then(() => {
          log.push(`upgrade ${upgradeConnection(env, req, protocol)}`);
          return new Response(null, { headers: { upgrade: "echo" } });
        });
      }
      if (path === "/decline") return new Response("declined");
      if (path === "/try") return new Response(String(upgradeConnection(env, req, protocol)));
      if (path === "/foreign-env") return new Response(String(upgradeConnection({}, req, protocol)));
      if (path === "/early-hints") {
        // Duck-typed: Node's Response refuses to be built with a 1xx status.
        return { status: 103, statusText: "Early Hints", headers: new Headers({ link: "</a.css>" }), body: null } as unknown as Response;
      }
      return new Response(`plain ${path}`);
    },
  });
}

/** Defines the upgrade suite against `serve`. */
export function defineUpgradeSuite(runtime: string, serve: ServeFn): void {
  describe(`anyserve on ${runtime}: protocol upgrade`, () => {
    it("switches to the protocol: 101 with the handler's fields, then echoes, bytes of the upgrade's own write included", async () => {
      const log: string[] = [];
      const server = upgradeServer(serve, log);
      await server.ready;
      const c = new Client(server.port);
      try {
        c.socket.write(`GET /up HTTP/1.1\r\n${UPGRADE}early`);
        const text = await c.until((t) => t.includes("\r\n\r\nearly"));
        const head = text.slice(0, text.indexOf("\r\n\r\n"));
        const lines = head.split("\r\n");
        assert.equal(lines[0], "HTTP/1.1 101 Switching Protocols");
        assert.ok(lines.includes("Connection: Upgrade"), head);
        assert.ok(lines.includes("x-custom: yes"), head);
        assert.ok(lines.includes("upgrade: echo"), head);
        assert.ok(lines.includes("x-extra: 1"), head);
        assert.ok(lines.some((l) => l.startsWith("Date: ")), head);
        assert.ok(!/content-length|transfer-encoding/i.test(head), head);
        assert.equal(text.slice(text.indexOf("\r\n\r\n") + 4), "early");
        c.socket.write("more bytes");
        await c.until((t) => t.endsWith("earlymore bytes"));
        c.socket.end();
        await c.closed();
        assert.deepEqual(log.slice(0, 2), ["upgrade true", "attach 5"]);
        for (let i = 0; i < 20 && !log.includes("close"); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(log.includes("end") && log.includes("close"), log.join(","));
        assert.equal(server.stats().connections.active, 0);
      } finally {
        c.socket.destroy();
        await server.close({ deadlineMs: 500 });
      }
    });

    it("answers a pipelined request before the upgrade first, in order, and a handler that upgrades later holds the bytes meanwhile", async () => {
      const log: string[] = [];
      const server = upgradeServer(serve, log);
      await server.ready;
      const c = new Client(server.port);
      try {
        c.socket.write(`GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /up-later HTTP/1.1\r\n${UPGRADE}ping`);
        const text = await c.until((t) => t.endsWith("\r\n\r\nping"));
        const first = text.indexOf("HTTP/1.1 200 OK");
        const body = text.indexOf("plain /first");
        const switched = text.indexOf("HTTP/1.1 101 Switching Protocols");
        assert.ok(first === 0 && body > first && switched > body, text);
        c.socket.write("pong");
        await c.until((t) => t.endsWith("pingpong"));
        assert.deepEqual(log.slice(0, 2), ["upgrade true", "attach 4"]);
      } finally {
        c.socket.destroy();
        await server.close({ deadlineMs: 500 });
      }
    });

    it("a handler that does not upgrade answers as usual, and the next request is HTTP again", async () => {
      const log: string[] = [];
      const server = upgradeServer(serve, log);
      await server.ready;
      try {
        const r = await rawRequest(
          server.port,
          `GET /decline HTTP/1.1\r\n${UPGRADE}GET /try HTTP/1.1\r\nHost: x\r\n\r\nGET /foreign-env HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n` +
            `GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        );
        const statuses = r.text.match(/HTTP\/1\.1 \d{3}/g);
        assert.deepEqual(statuses, ["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200"], r.text);
        // Not an upgrade request, and not this server's env: both refused.
        assert.match(r.text, /declined[\s\S]*\r\n\r\nfalse[\s\S]*\r\n\r\nfalse[\s\S]*plain \/last$/);
        assert.deepEqual(log, []);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("HTTP/1.0 cannot upgrade (RFC 9110 §7.8)", async () => {
      const log: string[] = [];
      const server = upgradeServer(serve, log);
      await server.ready;
      try {
        const r = await rawRequest(server.port, `GET /up HTTP/1.0\r\n${UPGRADE}`, { until: (t) => t.endsWith("not sent") });
        assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(r.text, /this body is not sent$/);
        assert.deepEqual(log, ["upgrade false"]);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("graceful shutdown hands the upgraded connection its shutdown", async () => {
      const log: string[] = [];
      const server = upgradeServer(serve, log);
      await server.ready;
      const c = new Client(server.port);
      try {
        c.socket.write(`GET /up HTTP/1.1\r\n${UPGRADE}`);
        await c.until((t) => t.includes("\r\n\r\n"));
        const closing = server.close({ deadlineMs: 2000 });
        await c.until((t) => t.endsWith("bye"));
        await c.closed();
        const summary = await closing;
        assert.equal(summary.cut, 0);
        assert.ok(log.includes("shutdown"), log.join(","));
      } finally {
        c.socket.destroy();
        await server.close({ deadlineMs: 500 });
      }
    });

    it("a 1xx returned without an upgrade is a 500 (not a final response), and the connection goes on", async () => {
      const log: string[] = [];
      const server = upgradeServer(serve, log);
      await server.ready;
      try {
        const r = await rawRequest(server.port, "GET /early-hints HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert.match(r.text, /^HTTP\/1\.1 500 Internal Server Error\r\n[\s\S]*handler failed/);
        assert.ok(!/103|link:/i.test(r.text), r.text);
        assert.match(r.text, /plain \/after$/);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });
  });
}
