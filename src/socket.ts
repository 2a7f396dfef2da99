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

import type { DeflateCodecFactory } from "./ws/codec.ts";
import type { TlsInfo, TlsSettings } from "./tls.ts";
import type { RequestHead } from "./http/parser.ts";
import type { BodySource } from "./fetch/body.ts";
import type { UrlCache } from "./fetch/request.ts";

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
  /**
   * True on a TLS connection (the handshake is done before the socket is
   * handed to the core): the core then builds `https://` URLs. Absent or
   * false on plain TCP and Unix sockets.
   */
  readonly encrypted?: boolean;
  /** On a TLS connection: what the handshake agreed. Read when a handler asks (`env.tls`), not per request. */
  tlsInfo?(): TlsInfo;
  /** Begin delivering events. Called once, right after accept. */
  start(events: SocketEvents): void;
  /**
   * Queue bytes for sending; ownership of the memory passes to the socket.
   * Returns true when the bytes went out (or the runtime's buffer is still
   * below its high-water mark) and false when the peer is not draining: the
   * core then stops producing output until `drain`.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Optional, asked right after a `write()` that returned true: whether
   * every byte of it has been sent or copied already, so the socket holds
   * no reference to them (Bun's sockets always: their `write` copies into
   * the kernel or the TLS buffer, and the adapter keeps an unsent tail only
   * when it returns false). The core then builds the next response in the
   * same memory. Absent, or false: the socket may still read them (Deno's
   * writes finish later; Node's may, and asking it costs more than the
   * memory saved: bench/RESULTS.md).
   */
  copied?(): boolean;
  /**
   * Stop delivering `data` until `resume()`: TCP flow control then slows the
   * peer. A FIN behind no held data is still delivered as `end`, and a reset
   * as `close`, where the runtime lets the adapter see them.
   */
  pause(): void;
  /** Deliver `data` again after `pause()`. */
  resume(): void;
  /**
   * Optional: find out, sending nothing, whether the peer reset the
   * connection while it is paused (a runtime that stops polling a paused
   * socket would not notice until `resume()`); a reset is then delivered as
   * `close`. The core calls it about once a second on paused sockets. Bun
   * reports a paused socket's reset by itself and leaves it out.
   */
  probe?(): void;
  /** Send what is queued, then close the connection (FIN). */
  end(): void;
  /** Close at once, dropping what is still queued. */
  destroy(): void;
}

/** Where a listener is bound. */
export interface ListenAddress {
  /** The bound IP address (`"localhost"` on a Unix socket or an inherited descriptor). */
  hostname: string;
  /** The bound port (the real one when 0 was asked for; 0 on a Unix socket). */
  port: number;
  /** The socket file of a Unix-socket listener. */
  path?: string;
}

/** A bound, accepting endpoint. */
export interface Listener {
  /** Where the listener is bound. */
  readonly address: ListenAddress;
  /** Stop accepting. Sockets already accepted are not affected. */
  close(): void;
  /**
   * Present on TLS listeners whose runtime can change certificates: new
   * handshakes use `tls` once the promise resolves; connections already
   * open keep theirs. Rejects (and keeps the old certificates) when the new
   * ones are refused.
   */
  setTls?(tls: TlsSettings): Promise<void>;
}

/** A Unix-domain socket to listen on. */
export interface UnixListen {
  /** The socket file. */
  path: string;
  /** File mode set on the socket file after binding (e.g. 0o660); absent: the process umask decides. */
  mode?: number;
  /** Remove a stale socket file (one nobody accepts on) before binding. */
  removeStale: boolean;
}

/** What a transport needs to bind. */
export interface ListenOptions {
  /** Interface to bind (TCP). */
  hostname: string;
  /** Port to bind; 0 picks a free one (TCP). */
  port: number;
  /** Listen on this Unix-domain socket instead of TCP. */
  unix?: UnixListen;
  /** Accept on this already-listening descriptor (handed over by a process manager) instead of binding. */
  fd?: number;
  /** Serve TLS with these certificates. */
  tls?: TlsSettings;
  /** Cut a TLS handshake that has not finished after this long. */
  tlsHandshakeTimeoutMs?: number;
  /** Called each time a handshake is cut at `tlsHandshakeTimeoutMs` (for stats). */
  onTlsHandshakeTimeout?: () => void;
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
   * Optional fast path: the fields of `response` as the runtime keeps them
   * (name and value pairs, in order, a name repeated for each of its
   * values), read without making or iterating its `Headers`. Return null
   * when unsure; the core then iterates `response.headers`.
   */
  responseFields?(response: Response): readonly (readonly [string, string])[] | null;
  /**
   * Optional: makes the handler's `Request` for a parsed head and its body
   * (null when it has none), where the runtime has a cheaper faithful way
   * than the portable `makeRequest` of `src/fetch/request.ts`, whose rules
   * it keeps: a real `Request` of the runtime's, no body on GET and HEAD (their
   * `body.drop()`ped), a
   * `signal` that `abortRequest` aborts, and a TypeError thrown for what the
   * runtime's `Request` refuses.
   */
  makeRequest?(head: RequestHead, body: BodySource | null, urls: UrlCache): Request;
  /**
   * Optional: the value of a promise that has already settled, read
   * synchronously, or the promise itself when it has not (Bun's
   * `Bun.peek`). Lets the core skip a microtask wait per response body.
   */
  peek?<T>(promise: Promise<T>): T | Promise<T>;
  /**
   * Optional: the `Content-Type` the runtime's own server would send for
   * a body its Response implies a type for without listing it in
   * `headers` (Bun: a string body). Called with the body just locked by
   * `getReader()`, before any read; null for none. The core sends it only
   * when the response's fields name no `Content-Type`.
   */
  impliedType?(response: Response): string | null;
  /**
   * Optional: call `handler` when the process receives one of `signals`.
   * Returns a function that removes the handler. Runtimes without signals
   * leave it out.
   */
  onSignals?(signals: readonly ("SIGTERM" | "SIGINT" | "SIGHUP")[], handler: () => void): () => void;
  /**
   * Optional: the permessage-deflate codec (RFC 7692) WebSockets use when
   * `websocket.perMessageDeflate` is on; without it the extension is
   * never agreed.
   */
  webSocketDeflate?: DeflateCodecFactory;
  /**
   * Optional: writes text to the process's standard output (the access
   * log's batches). Runtimes without one leave it out; the log then goes
   * to `console.log`.
   */
  writeOut?(text: string): void;
}
