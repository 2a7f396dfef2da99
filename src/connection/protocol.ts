/**
 * The protocol seam: after `101 Switching Protocols`, a connection hands its
 * socket to another protocol (WebSocket, ...) and the HTTP/1.1 code steps
 * aside, knowing nothing of what follows.
 *
 * How an upgrade goes:
 *
 * 1. A request arrives with `Connection: upgrade` (HTTP/1.1 only, RFC 9110
 *    §7.8). The connection parses nothing after its head (and body) until
 *    its handler has answered: those bytes may belong to the new protocol.
 * 2. The handler calls {@linkcode upgradeConnection} with the `env` it was
 *    given, and returns a `Response` as usual (its status is not used: on
 *    Node a 101 `Response` cannot even be constructed). Its fields go on the
 *    101, less the framing ones (`Connection`, `Content-Length`,
 *    `Transfer-Encoding`, `Keep-Alive`); its body is dropped.
 * 3. Once every response before it has gone out, in request order, the
 *    connection writes `HTTP/1.1 101 Switching Protocols`, `Connection:
 *    Upgrade`, the handler's fields, a `Date` unless the handler set one,
 *    and the extra `headers` given to `upgradeConnection`, then stops HTTP
 *    for good and calls {@linkcode Protocol.attach} with the socket and the
 *    bytes it received after the upgrade request (possibly none).
 * 4. From then on every socket event goes to the returned
 *    {@linkcode ProtocolEvents}. The protocol writes, pauses, resumes, ends
 *    and destroys the socket itself. The connection stays in the server's
 *    pool (and `maxConnections`) until the socket closes; HTTP's timeouts,
 *    the reading gate of `slow_down` and byte counters no longer apply. The
 *    server's once-a-second sweep calls `sweep`, graceful shutdown calls
 *    `shutdown`, and at the shutdown deadline the socket is destroyed.
 *
 * A handler that returns a 1xx status without having called
 * `upgradeConnection` gets a 500 instead (a 1xx is not a final response).
 *
 * @module
 */

import { CONNECTION_OF } from "../fetch/conn_info.ts";
import type { Socket } from "../socket.ts";

/**
 * What a protocol receives from the socket it took over: the events of
 * {@linkcode SocketEvents}, plus the server's clock and shutdown.
 */
export interface ProtocolEvents {
  /** Bytes arrived; ownership passes to the protocol (as in `SocketEvents.data`). */
  data(bytes: Uint8Array): void;
  /** Everything written so far has left the process after `write()` returned false. */
  drain(): void;
  /** The peer half-closed its side: no more `data` will come. */
  end(): void;
  /** The socket is fully closed, for any reason. No event follows. */
  close(): void;
  /** The server's sweep, about once a second (`now` is `performance.now()`): the protocol's own timers. */
  sweep?(now: number): void;
  /** Graceful server shutdown began: close the protocol's way (WebSocket: 1001). The deadline destroys the socket. */
  shutdown?(): void;
}

/** A protocol a connection can switch to after `101 Switching Protocols`. */
export interface Protocol {
  /**
   * Takes over `socket` (the 101 is already written). `buffered` holds the
   * bytes that arrived after the upgrade request, in the protocol's framing;
   * it may be empty. Called once per upgraded connection.
   */
  attach(socket: Socket, buffered: Uint8Array): ProtocolEvents;
}

/** What a connection offers core code through the env object. */
export interface Upgradable {
  upgrade(request: Request, protocol: Protocol, headers?: readonly (readonly [string, string])[]): boolean;
  /**
   * The handshake of `request` was refused (bad version, overload): unless
   * the handler answers it with a 4xx of its own, `response` (the RFC's 426
   * or 400, or a 503) goes out instead of the handler's answer, which may be
   * `undefined` (a Bun-style handler's `if (server.upgrade(req)) return;`).
   */
  refuseUpgrade(request: Request, response: Response): void;
  /** The server's WebSockets (`src/ws/hub.ts`), for `env.upgrade` / `env.publish`. */
  readonly webSockets: unknown;
}

/**
 * Requests asking for an upgrade, each with its connection, so that an API
 * given only the request (`upgradeWebSocket(request)`, `server.upgrade(request)`)
 * finds it. Only requests with `Connection: upgrade` are entered; the map
 * holds them weakly.
 */
const UPGRADE_REQUESTS = new WeakMap<object, Upgradable>();

/** Called by a connection for each request with `Connection: upgrade` it hands to its handler. */
export function offerUpgrade(request: object, conn: Upgradable): void {
  UPGRADE_REQUESTS.set(request, conn);
}

/** The connection that received `request` (one entered by {@linkcode offerUpgrade}), if any. */
export function upgradableOf(request: object): Upgradable | undefined {
  return UPGRADE_REQUESTS.get(request);
}

/**
 * Asks the connection behind `env` (the handler's second argument) to switch
 * to `protocol` once `request` is answered; `headers` are added to the 101.
 * Returns false when that cannot be: `env` is not this server's, `request`
 * is not one of that connection's requests still awaiting its answer, it
 * is not an HTTP/1.1 request with `Connection: upgrade`, it asked to close,
 * its body is still arriving, the server is shutting down, or an upgrade
 * was already asked.
 */
export function upgradeConnection(
  env: unknown,
  request: Request,
  protocol: Protocol,
  headers?: readonly (readonly [string, string])[],
): boolean {
  const conn = (env as { [CONNECTION_OF]?: Upgradable } | null | undefined)?.[CONNECTION_OF];
  return conn != null && conn.upgrade(request, protocol, headers);
}
