/**
 * Connection information handed to the handler as its second argument
 * (`env`, Hono's `c.env`). The shape lets existing helpers work unchanged:
 * Deno-style `remoteAddr`, Bun-style `requestIP(request)`, and a node-like
 * `incoming.socket` for `@hono/node-server/conninfo`.
 *
 * @module
 */

import type { TlsInfo } from "../tls.ts";

/** What connection info reads from the socket about TLS (a core `Socket` has it). */
export interface TlsSource {
  readonly encrypted?: boolean;
  tlsInfo?(): TlsInfo;
}

/** A network address, in Deno's `Deno.NetAddr` shape. */
export interface NetAddr {
  /** Always `"tcp"`. */
  transport: "tcp";
  /** IP address. */
  hostname: string;
  /** Port number. */
  port: number;
}

/** Bun's `SocketAddress` shape, as returned by `requestIP()`. */
export interface SocketAddress {
  /** IP address. */
  address: string;
  /** Port number. */
  port: number;
  /** Address family. */
  family: "IPv4" | "IPv6";
}

/** What `env` carries for every request of a connection. */
export interface ConnInfo {
  /** The client's address (Deno style). */
  readonly remoteAddr: NetAddr;
  /** The address the connection was accepted on. */
  readonly localAddr: NetAddr;
  /** The runtime serving it: `"node"`, `"deno"` or `"bun"`. */
  readonly runtime: string;
  /** `"https"` on a TLS connection, else `"http"`. */
  readonly protocol: "http" | "https";
  /**
   * On a TLS connection, what its handshake agreed: TLS version, ALPN
   * protocol, SNI name and, under `requestCert`, the client certificate
   * (`tls.peerCertificate.subject`); null on plain HTTP.
   */
  readonly tls: TlsInfo | null;
  /** The client's address (Bun style); the argument is ignored. */
  requestIP(request?: Request): SocketAddress;
  /** A node-like view for `@hono/node-server/conninfo`. */
  readonly incoming: {
    socket: { remoteAddress: string; remotePort: number; remoteFamily: "IPv4" | "IPv6" };
  };
  /**
   * Bun's `server.upgrade(request, { data, headers })`: switches `request`'s
   * connection to a WebSocket served by the `websocket` option's handlers
   * once the handler returns (its result may then be `undefined`). False
   * when `request` is not a valid handshake this server can take (the
   * client then gets the RFC's 426/400, or a 503 over a limit, unless the
   * handler answers with a 4xx of its own).
   */
  upgrade(request: Request, options?: { data?: unknown; headers?: HeadersInit }): boolean;
  /** Bun's `server.publish(topic, data, compress?)`: to every socket subscribed to `topic`. */
  publish(topic: string, data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number;
  /** Bun's `server.subscriberCount(topic)`. */
  subscriberCount(topic: string): number;
}

/** What the server's WebSockets offer env (`src/ws/hub.ts`); structural, so this file imports nothing. */
interface WebSocketSide {
  bunUpgrade(request: Request, options?: { data?: unknown; headers?: HeadersInit }): boolean;
  publish(topic: string, data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number;
  subscriberCount(topic: string): number;
}

/**
 * Where the env object keeps the connection it describes, for core code that
 * acts on the connection (`upgradeConnection` in `src/connection/protocol.ts`).
 * Not exported from the package: handlers see only {@linkcode ConnInfo}.
 */
export const CONNECTION_OF: unique symbol = Symbol("anyserve.connection");

function familyOf(address: string): "IPv4" | "IPv6" {
  return address.includes(":") ? "IPv6" : "IPv4";
}

/** What connection info reads its facts from: the connection (a core `Connection`), or any object of this shape. */
export interface ConnSource {
  /** The connection's socket: its addresses, and TLS. */
  readonly socket: {
    readonly remoteAddress: string;
    readonly remotePort: number;
    readonly localAddress: string;
    readonly localPort: number;
  } & TlsSource;
  /** The runtime serving it. */
  readonly runtime: string;
  /** The server's WebSockets, for `upgrade` / `publish` / `subscriberCount`. */
  readonly webSockets?: unknown;
}

/**
 * Connection info as a small class over its connection: two fields, each
 * fact read from the connection's socket when a handler asks, the nested
 * shapes built then too. An idle keep-alive connection keeps this object
 * (its requests share it), and idle connections are many.
 */
class ConnectionInfo implements ConnInfo {
  readonly [CONNECTION_OF]: ConnSource;
  #tls: TlsInfo | null | undefined = undefined;

  constructor(source: ConnSource) {
    this[CONNECTION_OF] = source;
  }

  get runtime(): string {
    return this[CONNECTION_OF].runtime;
  }

  get protocol(): "http" | "https" {
    return this[CONNECTION_OF].socket.encrypted === true ? "https" : "http";
  }

  get tls(): TlsInfo | null {
    if (this.#tls === undefined) {
      const s = this[CONNECTION_OF].socket;
      this.#tls = s.encrypted === true && s.tlsInfo !== undefined ? s.tlsInfo() : null;
    }
    return this.#tls;
  }

  get remoteAddr(): NetAddr {
    const s = this[CONNECTION_OF].socket;
    return { transport: "tcp", hostname: s.remoteAddress, port: s.remotePort };
  }

  get localAddr(): NetAddr {
    const s = this[CONNECTION_OF].socket;
    return { transport: "tcp", hostname: s.localAddress, port: s.localPort };
  }

  requestIP(_request?: Request): SocketAddress {
    const s = this[CONNECTION_OF].socket;
    const address = s.remoteAddress;
    return { address, port: s.remotePort, family: familyOf(address) };
  }

  #ws(): WebSocketSide {
    const ws = this[CONNECTION_OF].webSockets as WebSocketSide | undefined;
    if (ws === undefined) throw new TypeError("WebSockets need a request served by an anyserve server");
    return ws;
  }

  upgrade(request: Request, options?: { data?: unknown; headers?: HeadersInit }): boolean {
    return this.#ws().bunUpgrade(request, options);
  }

  publish(topic: string, data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number {
    return this.#ws().publish(topic, data, compress);
  }

  subscriberCount(topic: string): number {
    return this.#ws().subscriberCount(topic);
  }

  get incoming(): ConnInfo["incoming"] {
    const s = this[CONNECTION_OF].socket;
    const remoteAddress = s.remoteAddress;
    return { socket: { remoteAddress, remotePort: s.remotePort, remoteFamily: familyOf(remoteAddress) } };
  }
}

/** The connection info of `source` (made once per connection, shared by its requests). */
export function connInfo(source: ConnSource): ConnInfo {
  return new ConnectionInfo(source);
}
