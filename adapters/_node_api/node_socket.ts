/**
 * One `node:net` (or `node:tls`) connection as a core {@linkcode Socket}:
 * Node's sockets, and on Bun the sockets of its `node:tls` server (the Bun
 * adapter's path for SNI, `./tls_server.ts`). Adapter private, as all of
 * `adapters/_node_api/`.
 *
 * Node already has what the core asks for, so this is a thin mapping:
 * `write()` returns `socket.write()`'s result, Node's `'drain'` is `drain`,
 * `pause()`/`resume()`/`end()`/`destroy()` are Node's own. Reads are Node
 * `Buffer`s, handed over as they are (a `Buffer` is a `Uint8Array`; Node
 * allocates a fresh one per read, so ownership can pass without a copy).
 *
 * The listeners (`adapters/node/listener.ts`, `./tls_server.ts`) make servers with `allowHalfOpen: true`
 * so a peer's FIN is reported as `end` and the core decides when to end its
 * side, and with `noDelay: true`. An `'error'` on a socket never throws: it
 * is followed by Node's `'close'`, which is what the core sees.
 *
 * @module
 */

import type * as net from "node:net";
import type * as tls from "node:tls";
import type { Socket, SocketEvents } from "../../src/socket.ts";
import { oneLineName, type TlsInfo } from "../../src/tls.ts";

const EMPTY = new Uint8Array(0);

/** Swallows an `'error'` event: the `'close'` that follows is what counts. */
export function ignoreError(): void {}

/** The `net.Socket`'s slot for its wrapper, read by the shared listeners below. */
const WRAPPER: unique symbol = Symbol("anyserve.nodeSocket");
type Wrapped = net.Socket & { [WRAPPER]: NodeSocket };

/** One `net.Socket` as a core {@linkcode Socket}. */
export class NodeSocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly encrypted: boolean;
  #socket: net.Socket;
  #events: SocketEvents | null = null;
  #closed = false;
  /** Plain TCP: `resetAndDestroy` works (it throws on TLS and pipe handles). */
  #tcp: boolean;

  // The listeners are shared by every socket (Node calls them with `this`
  // set to the emitting net.Socket, which points back here), not closures
  // made per connection: 4 closures and their contexts were about 0.6 KB of
  // the heap an idle connection holds (heap snapshot, 2,000 idle connections).
  static #onClose(this: Wrapped): void {
    const self = this[WRAPPER];
    if (self.#closed) return;
    self.#closed = true;
    self.#events?.close();
  }
  static #onData(this: Wrapped, bytes: Uint8Array): void {
    this[WRAPPER].#events!.data(bytes);
  }
  static #onDrain(this: Wrapped): void {
    this[WRAPPER].#events!.drain();
  }
  static #onEnd(this: Wrapped): void {
    this[WRAPPER].#events!.end();
  }

  /**
   * @param socket the accepted connection (a `tls.TLSSocket` after its handshake when `encrypted`)
   * @param encrypted whether it is TLS
   * @param unix whether it came in on a Unix socket (its local address is then `localhost`)
   */
  constructor(socket: net.Socket, encrypted = false, unix = false) {
    this.#socket = socket;
    this.encrypted = encrypted;
    this.#tcp = !encrypted && !unix;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = unix ? "localhost" : (socket.localAddress ?? "");
    this.localPort = socket.localPort ?? 0;
    (socket as Wrapped)[WRAPPER] = this;
    // Installed at once: an error before start() must not crash the process.
    socket.on("error", ignoreError);
    socket.on("close", NodeSocket.#onClose);
  }

  tlsInfo(): TlsInfo {
    const s = this.#socket as tls.TLSSocket;
    const cert = s.getPeerCertificate?.();
    const x509 = s.getPeerX509Certificate?.();
    const alpn = s.alpnProtocol;
    return {
      protocol: s.getProtocol?.() ?? null,
      alpnProtocol: typeof alpn === "string" ? alpn : null,
      serverName: typeof (s as { servername?: unknown }).servername === "string" ? (s as unknown as { servername: string }).servername : null,
      authorized: s.authorized === true,
      peerCertificate: x509 !== undefined && cert !== undefined && Object.keys(cert).length > 0
        ? {
          subject: oneLineName(x509.subject),
          issuer: oneLineName(x509.issuer),
          fingerprint256: x509.fingerprint256,
          validTo: x509.validTo,
          serialNumber: x509.serialNumber,
        }
        : null,
    };
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
    socket.on("data", NodeSocket.#onData);
    socket.on("drain", NodeSocket.#onDrain);
    socket.on("end", NodeSocket.#onEnd);
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
    if (this.#tcp && typeof s.resetAndDestroy === "function" && !s.destroyed) s.resetAndDestroy();
    else s.destroy();
  }
}
