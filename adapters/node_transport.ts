/**
 * The Node transport: {@linkcode nodeTransport} accepts connections with
 * `node:net` and presents each as a core {@linkcode Socket}.
 *
 * Node already has what the core asks for, so this is a thin mapping:
 * `write()` returns `socket.write()`'s result, Node's `'drain'` is `drain`,
 * `pause()`/`resume()`/`end()`/`destroy()` are Node's own. Reads are Node
 * `Buffer`s, handed over as they are (a `Buffer` is a `Uint8Array`; Node
 * allocates a fresh one per read, so ownership can pass without a copy).
 *
 * Servers are made with `allowHalfOpen: true` so a peer's FIN is reported as
 * `end` and the core decides when to end its side, and with `noDelay: true`.
 * An `'error'` on a socket never throws: it is followed by Node's `'close'`,
 * which is what the core sees.
 *
 * @module
 */

import * as net from "node:net";
import type { Listener, ListenAddress, ListenOptions, Socket, SocketEvents, Transport } from "../src/socket.ts";

function ignoreError(): void {}

/** One `net.Socket` as a core {@linkcode Socket}. */
class NodeSocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  #socket: net.Socket;
  #events: SocketEvents | null = null;
  #closed = false;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? "";
    this.localPort = socket.localPort ?? 0;
    // Installed at once: an error before start() must not crash the process.
    socket.on("error", ignoreError);
    socket.once("close", () => {
      this.#closed = true;
      this.#events?.close();
    });
  }

  start(events: SocketEvents): void {
    if (this.#events !== null) throw new Error("Socket.start() called twice");
    this.#events = events;
    const socket = this.#socket;
    if (this.#closed) {
      // Closed between accept and start: still report it, once, asynchronously.
      process.nextTick(() => events.close());
      return;
    }
    socket.on("data", (bytes: Uint8Array) => events.data(bytes));
    socket.on("drain", () => events.drain());
    socket.on("end", () => events.end());
  }

  write(bytes: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return false;
    return socket.write(bytes);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    const socket = this.#socket;
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** A listening `net.Server` as a core {@linkcode Listener}. */
class NodeListener implements Listener {
  readonly address: ListenAddress;
  #server: net.Server;

  constructor(server: net.Server, address: ListenAddress) {
    this.#server = server;
    this.address = address;
  }

  close(): void {
    // Stops accepting; sockets already accepted live on.
    if (this.#server.listening) this.#server.close();
  }
}

/**
 * The `node:net` transport. `reusePort` needs Node ≥ 22.12 (or ≥ 23.1) and an
 * OS with SO_REUSEPORT (Linux, FreeBSD); elsewhere Node rejects the listen.
 */
export const nodeTransport: Transport = {
  runtime: "node",
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    return new Promise<Listener>((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        onSocket(new NodeSocket(socket));
      });
      const onError = (error: Error): void => {
        server.off("listening", onListening);
        reject(error);
      };
      const onListening = (): void => {
        server.off("error", onError);
        // Accept errors after listening (EMFILE, ...) must not crash the process.
        server.on("error", ignoreError);
        const bound = server.address();
        const address: ListenAddress =
          bound !== null && typeof bound === "object"
            ? { hostname: bound.address, port: bound.port }
            : { hostname: options.hostname, port: options.port };
        resolve(new NodeListener(server, address));
      };
      server.once("error", onError);
      server.once("listening", onListening);
      const listenOptions: net.ListenOptions & { reusePort?: boolean } = {
        host: options.hostname,
        port: options.port,
      };
      if (options.reusePort === true) listenOptions.reusePort = true;
      server.listen(listenOptions);
    });
  },
};
