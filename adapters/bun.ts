/**
 * anyserve on Bun: the core bound to `Bun.listen` socket handlers.
 *
 * @example
 * ```ts
 * import { serve } from "anyserve/bun";
 * serve({ fetch: () => new Response("Hello"), port: 3000 });
 * ```
 *
 * @module
 */

import type { Listener, ListenOptions, Socket, SocketEvents, Transport } from "../src/socket.ts";
import { type Server, serveWith } from "../src/server.ts";
import type { ServeOptions } from "../src/options.ts";

// Structural shims of the few Bun APIs used here, so the published types
// never need @types/bun.
interface BunTcpSocket {
  data: BunSocket;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(on: boolean): boolean;
}
interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}
interface BunNamespace {
  listen(options: {
    hostname: string;
    port: number;
    reusePort?: boolean;
    allowHalfOpen?: boolean;
    socket: {
      open(s: BunTcpSocket): void;
      data(s: BunTcpSocket, d: Uint8Array): void;
      drain(s: BunTcpSocket): void;
      end(s: BunTcpSocket): void;
      close(s: BunTcpSocket, error?: Error): void;
      error(s: BunTcpSocket, error: Error): void;
    };
  }): BunTcpListener;
}

const EVENTS_NOT_STARTED: SocketEvents = {
  data() {},
  drain() {},
  end() {},
  close() {},
};

/**
 * One Bun TCP socket. Bun's `write()` takes what the kernel accepts and
 * returns that count: the unsent tail is kept here, in order, and finished
 * on `drain`, never dropped.
 */
class BunSocket implements Socket {
  #s: BunTcpSocket;
  #events: SocketEvents = EVENTS_NOT_STARTED;
  #tail: Uint8Array[] = [];
  #closed = false;
  #ending = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;

  constructor(s: BunTcpSocket) {
    this.#s = s;
    this.remoteAddress = s.remoteAddress ?? "";
    this.remotePort = s.remotePort ?? 0;
    this.localAddress = s.localAddress ?? "";
    this.localPort = s.localPort ?? 0;
  }

  start(events: SocketEvents): void {
    this.#events = events;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return true;
    if (this.#tail.length > 0) {
      this.#tail.push(bytes);
      return false;
    }
    const n = this.#s.write(bytes);
    if (n >= bytes.length) return true;
    if (n < 0) return true; // closed underneath us; `close` follows
    this.#tail.push(n === 0 ? bytes : bytes.subarray(n));
    return false;
  }

  pause(): void {
    if (!this.#closed) this.#s.pause();
  }

  resume(): void {
    if (!this.#closed) this.#s.resume();
  }

  end(): void {
    if (this.#closed) return;
    this.#ending = true;
    if (this.#tail.length === 0) this.#s.end();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#tail.length = 0;
    this.#s.terminate();
  }

  /** Bun: the kernel can take more. Send the tail, then tell the core. */
  onDrain(): void {
    const tail = this.#tail;
    while (tail.length > 0) {
      const b = tail[0];
      const n = this.#s.write(b);
      if (n < 0) return;
      if (n < b.length) {
        tail[0] = b.subarray(n);
        return;
      }
      tail.shift();
    }
    if (this.#ending) {
      this.#s.end();
      return;
    }
    this.#events.drain();
  }

  onData(d: Uint8Array): void {
    // Bun hands each callback a fresh Buffer of its own: no copy needed.
    this.#events.data(d);
  }

  onEnd(): void {
    this.#events.end();
  }

  onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tail.length = 0;
    this.#events.close();
  }
}

function bun(): BunNamespace {
  const b = (globalThis as { Bun?: BunNamespace }).Bun;
  if (b === undefined) throw new Error("adapters/bun.ts needs the Bun runtime: use anyserve/node or anyserve/deno elsewhere");
  return b;
}

/** The Bun transport: `Bun.listen` with half-open sockets, Nagle off. */
export const bunTransport: Transport = {
  runtime: "bun",
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    try {
      const listener = bun().listen({
        hostname: options.hostname,
        port: options.port,
        reusePort: options.reusePort,
        allowHalfOpen: true,
        socket: {
          open(s) {
            s.setNoDelay?.(true);
            const socket = new BunSocket(s);
            s.data = socket;
            onSocket(socket);
          },
          data: (s, d) => s.data.onData(d),
          drain: (s) => s.data.onDrain(),
          end: (s) => s.data.onEnd(),
          close: (s) => s.data?.onClose(),
          error: (s) => s.data?.onClose(),
        },
      });
      return Promise.resolve({
        address: { hostname: listener.hostname, port: listener.port },
        close: () => listener.stop(false),
      });
    } catch (e) {
      return Promise.reject(e);
    }
  },
};

/**
 * Serves `options.fetch` over HTTP/1.1 with `Bun.listen`.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(bunTransport, options);
}
