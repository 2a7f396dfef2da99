/**
 * The contract every {@linkcode Transport} keeps, as a `node:test` suite run
 * against real sockets on 127.0.0.1. The client side is the same runtime's
 * `node:net`. Call {@linkcode describeSocketContract} from a test file per
 * runtime.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import type { Listener, Socket, SocketEvents, Transport } from "../../src/socket.ts";

/** Everything one server-side socket reported. */
class Recorder implements SocketEvents {
  readonly socket: Socket;
  chunks: Uint8Array[] = [];
  bytes = 0;
  /** Event names in order (`data` collapsed into runs). */
  log: string[] = [];
  drains = 0;
  ends = 0;
  closes = 0;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  data(bytes: Uint8Array): void {
    assert.ok(bytes instanceof Uint8Array, "data is a Uint8Array");
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    if (this.log.at(-1) !== "data") this.log.push("data");
  }
  drain(): void {
    this.drains++;
    this.log.push("drain");
  }
  end(): void {
    this.ends++;
    this.log.push("end");
  }
  close(): void {
    this.closes++;
    this.log.push("close");
  }

  text(): string {
    return new TextDecoder().decode(concat(this.chunks));
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until true; fails with `what` after `ms`. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

/** Deterministic bytes: the i-th byte of a stream is `(i * 7 + seed) & 255`. */
function pattern(offset: number, length: number, seed = 0): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 7 + seed) & 255;
  return b;
}

/** A client socket with what it received. */
interface Client {
  sock: net.Socket;
  received: Buffer[];
  bytes: number;
  ended: boolean;
  closed: boolean;
  error: Error | null;
}

/** A listener with its accepted sockets, each started with a {@linkcode Recorder}. */
class Harness {
  readonly transport: Transport;
  listener: Listener | null = null;
  accepted: Recorder[] = [];
  clients: Client[] = [];

  constructor(transport: Transport) {
    this.transport = transport;
  }

  async listen(): Promise<Listener> {
    this.listener = await this.transport.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => {
      const r = new Recorder(socket);
      this.accepted.push(r);
      socket.start(r);
    });
    return this.listener;
  }

  /** Connects a client and waits until the server has accepted it. */
  async connect(options: { allowHalfOpen?: boolean } = {}): Promise<{ client: Client; server: Recorder }> {
    const port = this.listener!.address.port;
    const before = this.accepted.length;
    const sock = net.connect({ host: "127.0.0.1", port, allowHalfOpen: options.allowHalfOpen ?? false });
    const client: Client = { sock, received: [], bytes: 0, ended: false, closed: false, error: null };
    this.clients.push(client);
    sock.on("data", (b: Buffer) => {
      client.received.push(b);
      client.bytes += b.length;
    });
    sock.on("end", () => (client.ended = true));
    sock.on("close", () => (client.closed = true));
    sock.on("error", (e) => (client.error = e));
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", reject);
    });
    await until(() => this.accepted.length > before, "the server to accept");
    return { client, server: this.accepted[before] };
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients) c.sock.destroy();
    for (const r of this.accepted) r.socket.destroy();
    this.listener?.close();
    await until(() => this.accepted.every((r) => r.closes > 0), "every server socket to close");
  }
}

/** Runs `body` with a fresh listening harness, cleaning up afterwards. */
async function withHarness(transport: Transport, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = new Harness(transport);
  await h.listen();
  try {
    await body(h);
  } finally {
    await h.cleanup();
  }
}

/**
 * Declares the socket contract suite for `transport`.
 * @param name suite name, for example `"node transport"`
 * @param transport the transport under test
 * @param options `skip`: a reason to skip the whole suite (the wrong runtime)
 */
export function describeSocketContract(name: string, transport: Transport, options: { skip?: string } = {}): void {
  describe(name, { skip: options.skip }, () => {
    it("listen() resolves with the bound address; socket addresses are filled in", async () => {
      await withHarness(transport, async (h) => {
        const { port, hostname } = h.listener!.address;
        assert.equal(hostname, "127.0.0.1");
        assert.ok(Number.isInteger(port) && port > 0, `port ${port}`);
        const { client, server } = await h.connect();
        assert.equal(server.socket.remoteAddress, "127.0.0.1");
        assert.equal(server.socket.remotePort, client.sock.localPort);
        assert.equal(server.socket.localAddress, "127.0.0.1");
        assert.equal(server.socket.localPort, port);
      });
    });

    it("listen() rejects when the port is taken", async () => {
      await withHarness(transport, async (h) => {
        const port = h.listener!.address.port;
        await assert.rejects(transport.listen({ hostname: "127.0.0.1", port }, () => {}));
      });
    });

    it("data arrives in order across many writes, both ways", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        // Client to server: 2000 writes of varied sizes.
        let off = 0;
        for (let i = 0; i < 2000; i++) {
          const n = 1 + ((i * 131) % 1500);
          client.sock.write(pattern(off, n));
          off += n;
        }
        await until(() => server.bytes === off, `server to receive ${off} bytes (has ${server.bytes})`);
        // Checked after everything arrived: a transport that reused a read
        // buffer would have changed the earlier chunks by now.
        assert.deepEqual(concat(server.chunks), pattern(0, off));
        // Server to client, honoring backpressure.
        let out = 0;
        for (let i = 0; i < 2000; i++) {
          const n = 1 + ((i * 97) % 2000);
          const before = server.drains;
          const ok = server.socket.write(pattern(out, n, 3));
          out += n;
          if (!ok) await until(() => server.drains > before, "drain");
        }
        await until(() => client.bytes === out, `client to receive ${out} bytes (has ${client.bytes})`);
        assert.deepEqual(new Uint8Array(Buffer.concat(client.received)), pattern(0, out, 3));
      });
    });

    it("write() returns false to a client that does not read, and drain fires once it reads", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        client.sock.pause();
        const CHUNK = 64 * 1024;
        const TOTAL = 4 * 1024 * 1024;
        let sawFalse = false;
        for (let off = 0; off < TOTAL; off += CHUNK) {
          if (!server.socket.write(pattern(off, CHUNK, 5))) sawFalse = true;
        }
        assert.ok(sawFalse, "some write() returned false");
        await sleep(100);
        assert.equal(server.drains, 0, "no drain while the client does not read");
        client.sock.resume();
        await until(() => client.bytes === TOTAL, `client to receive 4 MiB (has ${client.bytes})`);
        await until(() => server.drains > 0, "drain");
        await sleep(50);
        assert.equal(server.drains, 1, "one drain");
        assert.deepEqual(new Uint8Array(Buffer.concat(client.received)), pattern(0, TOTAL, 5));
      });
    });

    it("pause() stops data events and resume() restarts them", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        client.sock.write("first");
        await until(() => server.text() === "first", "first chunk");
        server.socket.pause();
        client.sock.write("second");
        await sleep(200);
        assert.equal(server.text(), "first", "nothing delivered while paused");
        server.socket.resume();
        await until(() => server.text() === "firstsecond", "data after resume");
        // Paused while data keeps coming: nothing is lost or reordered.
        let off = 0;
        const timer = setInterval(() => {
          client.sock.write(pattern(off, 1000, 9));
          off += 1000;
        }, 1);
        const base = server.bytes;
        try {
          await until(() => server.bytes > base, "streaming data");
          server.socket.pause();
          await sleep(30);
          const atPause = server.bytes;
          await sleep(100);
          assert.equal(server.bytes, atPause, "no data while paused mid-stream");
          server.socket.resume();
        } finally {
          clearInterval(timer);
        }
        await until(() => server.bytes === base + off, "all streamed data");
        assert.deepEqual(concat(server.chunks).subarray(base), pattern(0, off, 9));
      });
    });

    it("end() sends what is queued, then FIN, then closes", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        client.sock.pause(); // make the bytes queue up in the transport
        const TOTAL = 16 * 1024 * 1024; // more than any kernel buffer takes at once
        assert.equal(server.socket.write(pattern(0, TOTAL, 11)), false, "bytes are left queued");
        server.socket.end();
        await sleep(50);
        assert.equal(server.closes, 0);
        client.sock.resume();
        await until(() => client.ended, "client end (FIN)");
        assert.equal(client.bytes, TOTAL, "every queued byte arrived before FIN");
        assert.deepEqual(new Uint8Array(Buffer.concat(client.received)), pattern(0, TOTAL, 11));
        // The client (allowHalfOpen false) answers with its own FIN.
        await until(() => server.closes === 1, "server close");
        await sleep(50);
        assert.equal(server.closes, 1);
        // Node and Deno report the peer's FIN (`end`) before `close`; Bun
        // goes straight to `close` after a half-close of ours.
        assert.equal(server.log.at(-1), "close");
        assert.ok(!server.log.includes("data") && !server.log.includes("drain"), server.log.join());
      });
    });

    it("destroy() closes at once, dropping what is queued", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        client.sock.pause();
        const TOTAL = 8 * 1024 * 1024;
        server.socket.write(pattern(0, TOTAL));
        server.socket.destroy();
        await until(() => server.closes === 1, "server close", 1000);
        client.sock.resume();
        await until(() => client.closed, "client close");
        assert.ok(client.bytes < TOTAL, "queued bytes were dropped");
        assert.equal(server.socket.write(new Uint8Array(10)), false, "write after destroy");
        server.socket.end();
        server.socket.destroy();
        await sleep(50);
        assert.equal(server.closes, 1, "close exactly once");
        assert.equal(server.drains, 0, "no drain after destroy");
      });
    });

    it("close is not delivered from inside destroy()", async () => {
      await withHarness(transport, async (h) => {
        const { server } = await h.connect();
        server.socket.destroy();
        assert.equal(server.closes, 0, "close is asynchronous");
        await until(() => server.closes === 1, "close");
      });
    });

    it("peer FIN yields end; after our end() (and writes) the socket closes", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect({ allowHalfOpen: true });
        client.sock.end("last words");
        await until(() => server.ends === 1, "end");
        assert.equal(server.text(), "last words");
        await sleep(100);
        assert.equal(server.closes, 0, "half-open: not closed before our end()");
        assert.equal(server.socket.write(new TextEncoder().encode("reply after FIN")), true);
        server.socket.end();
        await until(() => client.ended, "client end");
        assert.equal(Buffer.concat(client.received).toString(), "reply after FIN");
        await until(() => server.closes === 1, "close");
        await sleep(50);
        assert.deepEqual(server.log, ["data", "end", "close"]);
      });
    });

    it("peer FIN while paused is reported after resume(), after the data", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect({ allowHalfOpen: true });
        server.socket.pause();
        client.sock.end("bye");
        await sleep(150);
        assert.deepEqual(server.log, [], "nothing while paused");
        server.socket.resume();
        await until(() => server.ends === 1, "end");
        assert.equal(server.text(), "bye");
        assert.deepEqual(server.log, ["data", "end"]);
        server.socket.end();
        await until(() => server.closes === 1, "close");
      });
    });

    it("a peer reset closes the socket once and throws nowhere", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        client.sock.pause();
        for (let i = 0; i < 64; i++) server.socket.write(new Uint8Array(64 * 1024));
        client.sock.resetAndDestroy();
        await until(() => server.closes === 1, "close");
        server.socket.write(new Uint8Array(10));
        server.socket.end();
        await sleep(50);
        assert.equal(server.closes, 1);
      });
    });

    it("Listener.close() stops accepting; open sockets keep working", async () => {
      await withHarness(transport, async (h) => {
        const { client, server } = await h.connect();
        h.listener!.close();
        await sleep(20);
        const refused = net.connect({ host: "127.0.0.1", port: h.listener!.address.port });
        const outcome = await new Promise<string>((resolve) => {
          refused.once("connect", () => resolve("connected"));
          refused.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        });
        refused.destroy();
        assert.equal(outcome, "ECONNREFUSED");
        client.sock.write("ping");
        await until(() => server.text() === "ping", "ping");
        server.socket.write(new TextEncoder().encode("pong"));
        await until(() => Buffer.concat(client.received).toString() === "pong", "pong");
        h.listener!.close(); // a second close is harmless
      });
    });

    it("reusePort lets two listeners share a port", async () => {
      const isDeno = transport.runtime === "deno";
      const denoNs = (globalThis as { Deno?: object }).Deno;
      const first = transport.listen({ hostname: "127.0.0.1", port: 0, reusePort: true }, () => {});
      if (isDeno && denoNs !== undefined && !("listenDatagram" in denoNs)) {
        await assert.rejects(first, /--unstable-net/);
        return;
      }
      const a = await first;
      try {
        const b = await transport.listen({ hostname: "127.0.0.1", port: a.address.port, reusePort: true }, () => {});
        assert.equal(b.address.port, a.address.port);
        b.close();
      } finally {
        a.close();
      }
    });
  });
}
