/**
 * The seam between the core and a runtime: one connected byte stream and one
 * listening endpoint. Adapters (`adapters/node.ts`, `adapters/deno.ts`,
 * `adapters/bun.ts`) implement these interfaces; the core never touches a
 * runtime API.
 *
 * Push, not pull: Node `net` and `Bun.listen` deliver reads as callbacks, so a
 * push interface costs them nothing, while a pull interface (`read(): Promise`)
 * would add one promise per read on both. Deno is pull-based (`conn.read()`),
 * and its adapter runs the read loop that turns reads into `data` events: the
 * promise it pays is one Deno pays anyway.
 *
 * @module
 */

/** Events a socket delivers to the core. Set once with {@linkcode Socket.start}. */
export interface SocketEvents {
  /**
   * Bytes arrived. Ownership of the memory passes to the core: the adapter
   * must not write into it again (the core keeps views into it, for example
   * for request bodies and partial heads).
   */
  data(bytes: Uint8Array): void;
  /** Everything written so far has left the process after `write()` returned false. */
  drain(): void;
  /** The peer half-closed its side (TCP FIN): no more `data` will come. */
  end(): void;
  /** The socket is fully closed, for any reason. No event follows. */
  close(): void;
}

/** One accepted TCP connection. */
export interface Socket {
  /** Peer IP address (`"127.0.0.1"`, `"::1"`), or `""` when unknown. */
  readonly remoteAddress: string;
  /** Peer port, or 0 when unknown. */
  readonly remotePort: number;
  /** Local IP address the connection was accepted on. */
  readonly localAddress: string;
  /** Local port the connection was accepted on. */
  readonly localPort: number;
  /** Begin delivering events. Called once, right after accept. */
  start(events: SocketEvents): void;
  /**
   * Queue bytes for sending; ownership of the memory passes to the socket.
   * Returns true when the bytes went out (or the runtime's buffer is still
   * below its high-water mark) and false when the peer is not draining: the
   * core then stops producing output until `drain`.
   */
  write(bytes: Uint8Array): boolean;
  /** Stop delivering `data` until `resume()`: TCP flow control then slows the peer. */
  pause(): void;
  /** Deliver `data` again after `pause()`. */
  resume(): void;
  /** Send what is queued, then close the connection (FIN). */
  end(): void;
  /** Close at once, dropping what is still queued. */
  destroy(): void;
}

/** Where a listener is bound. */
export interface ListenAddress {
  /** The bound IP address. */
  hostname: string;
  /** The bound port (the real one when 0 was asked for). */
  port: number;
}

/** A bound, accepting endpoint. */
export interface Listener {
  /** Where the listener is bound. */
  readonly address: ListenAddress;
  /** Stop accepting. Sockets already accepted are not affected. */
  close(): void;
}

/** What a transport needs to bind. */
export interface ListenOptions {
  /** Interface to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Let several processes bind the same port (SO_REUSEPORT). */
  reusePort?: boolean;
  /** TCP keep-alive probes after this much idle time on accepted sockets; 0 or absent: off. */
  tcpKeepAliveMs?: number;
}

/** A runtime's way to accept connections; the one thing each adapter provides. */
export interface Transport {
  /** Short runtime name, as shown in connection info: `"node"`, `"deno"`, `"bun"`. */
  readonly runtime: string;
  /**
   * Bind and start accepting; `onSocket` is called for each new connection.
   * Rejects when the address cannot be bound.
   */
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener>;
  /**
   * Optional fast path: when the runtime can tell, cheaply and without
   * side effects visible to anyone else, that a Response's body is a fixed
   * string or byte array, return it (the body then counts as consumed).
   * Return null for anything else (streams, Blobs, or when unsure); the core
   * then reads the body stream.
   */
  staticBody?(response: Response): string | Uint8Array | null;
  /**
   * Optional: the value of a promise that has already settled, read
   * synchronously, or the promise itself when it has not (Bun's
   * `Bun.peek`). Lets the core skip a microtask wait per response body.
   */
  peek?<T>(promise: Promise<T>): T | Promise<T>;
  /**
   * Optional: call `handler` when the process receives one of `signals`.
   * Returns a function that removes the handler. Runtimes without signals
   * leave it out.
   */
  onSignals?(signals: readonly ("SIGTERM" | "SIGINT" | "SIGHUP")[], handler: () => void): () => void;
  /**
   * Optional: writes text to the process's standard output (the access
   * log's batches). Runtimes without one leave it out; the log then goes
   * to `console.log`.
   */
  writeOut?(text: string): void;
}
