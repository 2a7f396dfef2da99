/**
 * The few parts of Bun's TCP API that the Bun adapter (`adapters/bun.ts`, `adapters/bun/`) uses, typed
 * structurally so the published declarations compile without `bun-types`.
 * Only what the adapter touches is listed; shapes follow Bun 1.4.
 *
 * @module
 */

/** A `Bun.Socket` as passed to the handlers of `Bun.listen`. */
export interface BunSocket<Data> {
  /** Per-socket data slot; the adapter keeps its socket wrapper here. */
  data: Data;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * Sends what the kernel takes now. Returns the number of bytes taken (the
   * rest is NOT buffered by Bun), or -1 when the socket is closed.
   */
  write(data: Uint8Array): number;
  /**
   * Closes the socket at once (its `close` handler runs soon after), even with
   * `allowHalfOpen`. The adapter uses `shutdown()` instead.
   */
  end(): void;
  /** Half-close: sends FIN, keeps reading; `close` follows the peer's FIN. */
  shutdown(halfClose?: boolean): void;
  /** Closes at once (RST when data is unsent); `close` fires synchronously. */
  terminate(): void;
  /** Stops reading from the kernel. */
  pause(): void;
  /** Starts reading again after `pause()`. */
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
  /** TLS: the ALPN protocol agreed, or false. */
  readonly alpnProtocol?: string | false | null;
  /** TLS: the client's SNI name. */
  getServername?(): string | undefined;
  /** TLS: `"TLSv1.3"`, ... */
  getTLSVersion?(): string | null;
  /** TLS: the client's certificate (node:crypto `X509Certificate` shape), when it sent one. */
  getPeerX509Certificate?(): { subject: string; issuer: string; fingerprint256: string; validTo: string; serialNumber: string } | undefined;
}

/** The `tls` option of `Bun.listen` (one certificate). */
export interface BunTlsOptions {
  cert: string;
  key: string;
  passphrase?: string;
  ca?: string[];
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
  /** Wire format (length-prefixed names). */
  ALPNProtocols?: ArrayBuffer;
}

/** The handlers given to `Bun.listen({ socket })`. */
export interface BunSocketHandler<Data> {
  open(socket: BunSocket<Data>): void;
  data(socket: BunSocket<Data>, data: Uint8Array): void;
  drain(socket: BunSocket<Data>): void;
  end(socket: BunSocket<Data>): void;
  close(socket: BunSocket<Data>, error?: unknown): void;
  error(socket: BunSocket<Data>, error: unknown): void;
  /** TLS: the handshake finished; `authorizationError` says why the client certificate did not verify. */
  handshake?(socket: BunSocket<Data>, success: boolean, authorizationError: Error | null): void;
}

/** Options of `Bun.listen` for TCP (hostname, port) or a Unix socket (unix). */
export interface BunListenOptions<Data> {
  hostname?: string;
  port?: number;
  /** A Unix socket path, instead of hostname and port. */
  unix?: string;
  tls?: BunTlsOptions;
  /** Keep the socket writable after the peer's FIN (Bun closes both sides otherwise). */
  allowHalfOpen?: boolean;
  /** SO_REUSEPORT. */
  reusePort?: boolean;
  socket: BunSocketHandler<Data>;
}

/** What `Bun.listen` returns. */
export interface BunTCPListener {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting; with `true` also closes accepted sockets. */
  stop(closeActiveConnections?: boolean): void;
}

/** The parts of the `Bun` global the adapter uses. */
export interface BunNamespace {
  listen<Data>(options: BunListenOptions<Data>): BunTCPListener;
}

/** The `Bun` global; throws where there is none. */
export function bun(): BunNamespace {
  const b = (globalThis as { Bun?: BunNamespace }).Bun;
  if (b === undefined) throw new Error("adapters/bun.ts needs the Bun runtime: use anyserve/node or anyserve/deno elsewhere");
  return b;
}
