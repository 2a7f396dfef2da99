/**
 * One `node:net` connection as a core {@linkcode Socket}.
 *
 * Node already has what the core asks for, so this is a thin mapping:
 * `write()` returns `socket.write()`'s result, Node's `'drain'` is `drain`,
 * `pause()`/`resume()`/`end()`/`destroy()` are Node's own. Reads are Node
 * `Buffer`s, handed over as they are (a `Buffer` is a `Uint8Array`; Node
 * allocates a fresh one per read, so ownership can pass without a copy).
 *
 * The listener (`./listener.ts`) makes servers with `allowHalfOpen: true`
 * so a peer's FIN is reported as `end` and the core decides when to end its
 * side, and with `noDelay: true`. An `'error'` on a socket never throws: it
 * is followed by Node's `'close'`, which is what the core sees.
 *
 * @module
 */

import type * as net from "node:net";
import type { Socket, SocketEvents } from "../../src/socket.ts";

const EMPTY = new Uint8Array(0);

/** Swallows an `'error'` event: the `'close'` that follows is what counts. */
export function ignoreError(): void {}

/** One `net.Socket` as a core {@linkcode Socket}. */
export class NodeSocket implements Socket {
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

  /**
   * A zero-length write: it puts nothing on the wire, but the kernel fails
   * it on a reset connection (ECONNRESET, EPIPE), and Node then destroys
   * the socket: `close` follows. A paused socket whose buffer is full is not
   * polled by libuv, so without it a reset goes unnoticed until resume.
   */
  probe(): void {
    const socket = this.#socket;
    if (!socket.destroyed && !socket.writableEnded && socket.writableLength === 0) socket.write(EMPTY);
  }

  end(): void {
    const socket = this.#socket;
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  }

  destroy(): void {
    // An abort, not a goodbye: reset (RST) rather than leave unsent bytes
    // queued in the kernel for a peer that is not reading (FIN-WAIT-1).
    const s = this.#socket as net.Socket & { resetAndDestroy?: () => void };
    if (typeof s.resetAndDestroy === "function" && !s.destroyed) s.resetAndDestroy();
    else s.destroy();
  }
}
