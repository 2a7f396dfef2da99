/**
 * A server's WebSockets: the one place the three APIs (Hono's
 * `upgradeWebSocket`, Bun's `websocket` option with `upgrade()`, the
 * Deno-like `upgradeWebSocket(request)`) turn a request into an open
 * session. It validates the handshake, applies the overload limits at
 * upgrade time, asks the connection to switch protocols, and keeps what
 * the server reports: open sockets, their messages and bytes, topics, and
 * how they ended during a shutdown.
 *
 * @module
 */

import { upgradableOf } from "../connection/protocol.ts";
import type { DeflateCodecFactory } from "./codec.ts";
import { type DeflateOptions, isWebSocketUpgrade } from "./handshake.ts";
import { encodeText, OP_BINARY, OP_TEXT, writeFrame } from "./frame.ts";
import { prepareUpgrade } from "./mod.ts";
import type { WebSocketServerOptions } from "./mod.ts";
import {
  DEFAULT_BACKPRESSURE_LIMIT,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  type SessionOwner,
  type WebSocketHandler,
  WebSocketSession,
} from "./session.ts";
import { scratch } from "../http/writer.ts";

/**
 * The `websocket` option of `serve()`: Bun's shape. The handlers serve
 * sockets upgraded with `server.upgrade()` / `env.upgrade()`; the settings
 * apply to every WebSocket of the server, whichever API opened it.
 */
export interface WebSocketConfig<T = any> extends WebSocketHandler<T> {
  /** Largest message in bytes (inflated size when compressed); over it the socket closes with 1009. @default 16777216 (16 MiB, as Bun) */
  maxPayloadLength?: number;
  /** Seconds without a byte from the peer before the socket closes (1001); 0: never. @default 120 (as Bun) */
  idleTimeout?: number;
  /** Ping a quiet peer (after a quarter of `idleTimeout`), so live sockets are not closed as idle. @default true (as Bun) */
  sendPings?: boolean;
  /** Bytes queued on a socket over its high-water mark beyond which `send` drops the message (returns 0). @default 16777216 (16 MiB, as Bun) */
  backpressureLimit?: number;
  /** Close the socket instead of dropping the message at `backpressureLimit`. @default false */
  closeOnBackpressureLimit?: boolean;
  /** permessage-deflate (RFC 7692), when the client offers it. @default false (as Bun and `ws`) */
  perMessageDeflate?: boolean | DeflateOptions;
  /** `ws.publish` reaches the publishing socket too. @default false (as Bun) */
  publishToSelf?: boolean;
  /** Ordered handling: while an async `message` handler runs, no further message is delivered and reading stops. @default false */
  ordered?: boolean;
  /** Open WebSockets at once; upgrades past it are answered 503. @default unlimited (they count against `maxConnections`) */
  maxWebSockets?: number;
  /** Seconds the close handshake may take before the socket is cut. @default 5 */
  closeTimeout?: number;
}

/** What `upgrade()` accepts (Bun's `server.upgrade(request, options)`). */
export interface UpgradeOptions<T = unknown> {
  /** The socket's `ws.data`. */
  data?: T;
  /** Fields for the 101 response (a `Sec-WebSocket-Protocol` among them picks the subprotocol). */
  headers?: HeadersInit;
}

/** What the server gives its hub. */
export interface HubHost {
  /** Overload control holds reading back (`slow_down`'s gate): no new sockets. */
  readonly gated: boolean;
  readonly closing: boolean;
  readonly retryAfterSeconds: number;
}

/** Per-server WebSocket totals, as `stats().webSockets` reports them. */
export interface WebSocketStats {
  /** Open WebSockets. */
  open: number;
  /** WebSockets opened. */
  total: number;
  /** Upgrades answered 503 (limit, overload, shutdown). */
  refused: number;
  messagesIn: number;
  messagesOut: number;
  /** Bytes on the wire after the 101, frames included. */
  bytesIn: number;
  bytesOut: number;
}

/** A session, or the answer to send instead of the 101. */
export type HubUpgrade<T> =
  | { readonly ok: true; readonly session: WebSocketSession<T> }
  | { readonly ok: false; readonly response: Response; readonly notServed?: boolean };

const FRAMING = new Set(["connection", "upgrade", "sec-websocket-accept", "sec-websocket-extensions", "content-length", "transfer-encoding"]);

/** One server's WebSockets. */
export class WebSocketHub implements SessionOwner {
  readonly config: WebSocketConfig;
  readonly sessionOptions: WebSocketServerOptions;
  readonly #host: HubHost;
  readonly open = new Set<WebSocketSession<any>>();
  readonly #topics = new Map<string, Set<WebSocketSession<any>>>();
  readonly #max: number;
  readonly #publishToSelf: boolean;
  #total = 0;
  #refused = 0;
  // Counters of sockets already closed (open ones are summed when asked).
  #messagesIn = 0;
  #messagesOut = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  /** Sockets that ended after shutdown began: with a close handshake, or cut. */
  shutdownClosed = 0;
  shutdownCut = 0;

  constructor(config: WebSocketConfig | undefined, deflate: DeflateCodecFactory | undefined, host: HubHost) {
    const c = (this.config = config ?? {});
    this.#host = host;
    this.#max = c.maxWebSockets ?? Infinity;
    this.#publishToSelf = c.publishToSelf === true;
    const idleMs = c.idleTimeout === undefined ? DEFAULT_IDLE_TIMEOUT_MS : c.idleTimeout * 1000;
    this.sessionOptions = {
      maxMessageBytes: c.maxPayloadLength ?? DEFAULT_MAX_MESSAGE_BYTES,
      idleTimeoutMs: idleMs,
      // A quarter of the idle limit: a live peer answers several pings before it could be closed as idle.
      pingIntervalMs: c.sendPings === false ? 0 : idleMs > 0 ? idleMs / 4 : 30_000,
      closeTimeoutMs: c.closeTimeout === undefined ? undefined : c.closeTimeout * 1000,
      backpressureLimit: c.backpressureLimit ?? DEFAULT_BACKPRESSURE_LIMIT,
      closeOnBackpressureLimit: c.closeOnBackpressureLimit === true,
      ordered: c.ordered === true,
      perMessageDeflate: deflate ? c.perMessageDeflate ?? false : false,
      deflate: c.perMessageDeflate ? deflate : undefined,
    };
  }

  /**
   * Validates `request` as a handshake and, when it is one this server can
   * take, marks its connection to switch once the handler's response goes
   * out. `protocol` picks the subprotocol among those offered (default: the
   * first offered, as Bun does); `headers` go on the 101.
   */
  upgrade<T>(
    request: Request,
    handler: WebSocketHandler<T>,
    data: T,
    protocol?: string | ((offered: readonly string[]) => string | null | undefined),
    headers?: [string, string][],
  ): HubUpgrade<T> {
    const conn = upgradableOf(request);
    if (conn === undefined) {
      return { ok: false, notServed: true, response: new Response("Not a request of this server", { status: 500 }) };
    }
    const pick = typeof protocol === "function" ? protocol : protocol === undefined ? firstOffered : () => protocol;
    const prep = prepareUpgrade(request, handler, data, { ...this.sessionOptions, protocols: pick });
    if (!prep.ok) {
      // Only a WebSocket handshake gets the RFC's answer in place of the
      // handler's; another upgrade (h2c, say) is the handler's to answer.
      if (isWebSocketUpgrade(request)) conn.refuseUpgrade(request, prep.response);
      return { ok: false, response: prep.response };
    }
    const h = this.#host;
    if (h.closing || h.gated || this.open.size >= this.#max) {
      this.#refused++;
      const response = new Response("Service Unavailable", {
        status: 503,
        headers: { "Retry-After": String(h.retryAfterSeconds), "Content-Type": "text/plain; charset=utf-8" },
      });
      conn.refuseUpgrade(request, response);
      return { ok: false, response };
    }
    // The 101's own fields, less Connection (the connection writes it).
    const fields: [string, string][] = [];
    for (const f of prep.headers) if (f[0] !== "Connection") fields.push(f);
    if (headers !== undefined) for (const f of headers) if (!FRAMING.has(f[0].toLowerCase()) && f[0].toLowerCase() !== "sec-websocket-protocol") fields.push(f);
    const session = prep.session;
    if (!conn.upgrade(request, session, fields)) {
      const response = new Response("This request cannot be upgraded", { status: 400 });
      return { ok: false, response };
    }
    session._owner = this;
    return { ok: true, session };
  }

  /** Bun's `server.upgrade(request, { data, headers })` with the `websocket` option's handlers. */
  bunUpgrade(request: Request, options?: UpgradeOptions): boolean {
    const c = this.config;
    if (c.message === undefined && c.open === undefined) {
      throw new TypeError('To use upgrade(), pass a "websocket" object with your handlers to serve()');
    }
    let headers: [string, string][] | undefined;
    let protocol: string | undefined;
    if (options?.headers !== undefined) {
      headers = [];
      new Headers(options.headers).forEach((v, k) => {
        if (k === "sec-websocket-protocol") protocol = v.split(",")[0].trim();
        headers!.push([k, v]);
      });
    }
    return this.upgrade(request, c, options?.data, protocol, headers).ok;
  }

  // ---- topics (SessionOwner) -----------------------------------------

  subscribe(ws: WebSocketSession<any>, topic: string): void {
    let set = this.#topics.get(topic);
    if (set === undefined) this.#topics.set(topic, (set = new Set()));
    set.add(ws);
  }

  unsubscribe(ws: WebSocketSession<any>, topic: string): void {
    const set = this.#topics.get(topic);
    if (set === undefined) return;
    set.delete(ws);
    if (set.size === 0) this.#topics.delete(topic);
  }

  /** Subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /**
   * Sends to every subscriber of `topic` (but `except`, unless
   * `publishToSelf`). The frame is built once and shared by every socket
   * without compression; a compressed socket gets its own. Returns the
   * bytes sent to the last socket, -1 when some socket is over its
   * high-water mark, 0 when none took it.
   */
  publish(topic: string, message: string | ArrayBufferView | ArrayBuffer, compress = true, except: WebSocketSession<any> | null = null): number {
    const set = this.#topics.get(topic);
    if (set === undefined || set.size === 0) return 0;
    if (except !== null && this.#publishToSelf) except = null;
    let frame: Uint8Array | null = null;
    let result = 0;
    let backpressured = false;
    for (const ws of set) {
      if (ws === except) continue;
      let n: number;
      if (ws.compressed && compress) n = ws.send(message, true);
      else {
        frame ??= buildFrame(message);
        n = ws._sendFrame(frame);
      }
      if (n < 0) backpressured = true;
      else if (n > 0) result = n;
    }
    return backpressured ? -1 : result;
  }

  // ---- life and statistics --------------------------------------------

  sessionOpened(ws: WebSocketSession<any>): void {
    this.open.add(ws);
    this.#total++;
  }

  sessionClosed(ws: WebSocketSession<any>, code: number): void {
    if (!this.open.delete(ws)) return;
    const topics = ws._topics;
    if (topics !== null) {
      for (const t of topics) this.unsubscribe(ws, t);
      topics.clear();
    }
    this.#messagesIn += ws.messagesIn;
    this.#messagesOut += ws.messagesOut;
    this.#bytesIn += ws.bytesIn;
    this.#bytesOut += ws.bytesOut;
    if (this.#host.closing) {
      if (code === 1006) this.shutdownCut++;
      else this.shutdownClosed++;
    }
  }

  stats(): WebSocketStats {
    let mi = this.#messagesIn, mo = this.#messagesOut, bi = this.#bytesIn, bo = this.#bytesOut;
    for (const ws of this.open) {
      mi += ws.messagesIn;
      mo += ws.messagesOut;
      bi += ws.bytesIn;
      bo += ws.bytesOut;
    }
    return { open: this.open.size, total: this.#total, refused: this.#refused, messagesIn: mi, messagesOut: mo, bytesIn: bi, bytesOut: bo };
  }
}

function firstOffered(offered: readonly string[]): string {
  return offered[0];
}

/** One unmasked, uncompressed data frame in memory of its own (shared by every subscriber). */
function buildFrame(message: string | ArrayBufferView | ArrayBuffer): Uint8Array {
  const payload = typeof message === "string"
    ? encodeText(message)
    : message instanceof Uint8Array
    ? message
    : ArrayBuffer.isView(message)
    ? new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
    : new Uint8Array(message);
  writeFrame(scratch, typeof message === "string" ? OP_TEXT : OP_BINARY, payload, false);
  return scratch.take().slice();
}
