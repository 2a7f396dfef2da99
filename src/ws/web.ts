/**
 * The Deno-like API for plain fetch handlers: `upgradeWebSocket(request)`
 * returns `{ socket, response }`, where `socket` has the shape of a WHATWG
 * `WebSocket` (`onopen`/`onmessage`/`onclose`/`onerror`, `addEventListener`,
 * `send`, `close`, `binaryType`, `bufferedAmount`, `readyState`,
 * `protocol`, `extensions`, `url`) and `response` is what the handler
 * returns (the connection answers 101 with its fields).
 *
 * @example
 * ```ts
 * import { serve, upgradeWebSocket } from "anyserve";
 * serve({
 *   fetch(req) {
 *     if (req.headers.get("upgrade") !== "websocket") return new Response("hi");
 *     const { socket, response } = upgradeWebSocket(req);
 *     socket.onmessage = (e) => socket.send(e.data);
 *     return response;
 *   },
 * });
 * ```
 *
 * @module
 */

import { upgradableOf } from "../connection/protocol.ts";
import type { WebSocketHub } from "./hub.ts";
import { CLOSED, CLOSING, CONNECTING, OPEN, type WebSocketHandler, type WebSocketSession } from "./session.ts";

/** Options of {@linkcode upgradeWebSocket} (Deno's `UpgradeWebSocketOptions`). */
export interface UpgradeWebSocketOptions {
  /** The subprotocol to agree on, when the client offered it; none otherwise. */
  protocol?: string;
}

/** The event handler attributes and their events. */
type Listener<E extends Event> = ((this: ServerWebSocket, ev: E) => unknown) | null;

const encoder = new TextEncoder();

/**
 * The server's side of a WebSocket with the WHATWG `WebSocket` interface.
 * Events: `open`, `message` (`MessageEvent`, `data` a string, or a `Blob` /
 * `ArrayBuffer` per `binaryType`), `error` (the connection failed: no
 * close frame came), `close` (`CloseEvent`).
 */
export class ServerWebSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  /** The request's URL (with `ws:` as its scheme). */
  readonly url: string;
  /** How binary messages arrive: as a `Blob` (the WHATWG default) or an `ArrayBuffer`. */
  binaryType: "blob" | "arraybuffer" = "blob";
  onopen: Listener<Event> = null;
  onmessage: Listener<MessageEvent> = null;
  onclose: Listener<CloseEvent> = null;
  onerror: Listener<Event> = null;

  /** @internal */
  _session: WebSocketSession<ServerWebSocket> | null = null;
  #queue: (string | Blob | Uint8Array)[] | null = null;

  constructor(url: string) {
    super();
    this.url = url.replace(/^http/, "ws");
  }

  /** CONNECTING (0) until the 101 is out, OPEN (1), CLOSING (2), CLOSED (3). */
  get readyState(): number {
    return this._session?.readyState ?? CLOSED;
  }

  /** The agreed subprotocol, or `""`. */
  get protocol(): string {
    return this._session?.protocol ?? "";
  }

  /** The agreed extensions, or `""`. */
  get extensions(): string {
    return this._session?.extensions ?? "";
  }

  /** Bytes sent and not yet handed to the network. */
  get bufferedAmount(): number {
    return this._session?.bufferedAmount ?? 0;
  }

  /**
   * Sends a message. Throws `InvalidStateError` before the socket is open;
   * after it closed, the message is dropped (as the WHATWG spec says).
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    const s = this._session;
    if (s === null || s.readyState === CONNECTING) throw new DOMException("WebSocket is not open", "InvalidStateError");
    if (this.#queue !== null) {
      this.#queue.push(typeof data === "string" || data instanceof Blob ? data : bytes(data));
      return;
    }
    if (typeof data === "string") s.send(data);
    else if (data instanceof Blob) {
      // A Blob's bytes come later: later sends wait behind it, in order.
      this.#queue = [data];
      this.#drainQueue();
    } else s.send(bytes(data));
  }

  async #drainQueue(): Promise<void> {
    const q = this.#queue!;
    while (q.length > 0) {
      const m = q.shift()!;
      const s = this._session!;
      if (m instanceof Blob) s.send(new Uint8Array(await m.arrayBuffer()));
      else s.send(m);
    }
    this.#queue = null;
  }

  /** Starts the close handshake; `code` is 1000 or 3000..4999, `reason` at most 123 bytes. */
  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`invalid close code ${code}`, "InvalidAccessError");
    }
    if (reason !== undefined && encoder.encode(reason).length > 123) throw new DOMException("close reason over 123 bytes", "SyntaxError");
    // No code: a close frame without a status, which the peer reads as 1005 (RFC 6455 §7.1.5).
    this._session?.close(code ?? (reason === undefined ? 1005 : 1000), reason ?? "");
  }

  /** @internal */
  _fire(type: "open" | "message" | "close" | "error", ev: Event): void {
    const h = type === "open" ? this.onopen : type === "message" ? this.onmessage : type === "close" ? this.onclose : this.onerror;
    try {
      if (h !== null) (h as (this: ServerWebSocket, ev: Event) => unknown).call(this, ev);
    } finally {
      this.dispatchEvent(ev);
    }
  }
}

function bytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function closeEvent(code: number, reason: string): Event {
  const init = { code, reason, wasClean: code !== 1006 };
  if (typeof CloseEvent === "function") return new CloseEvent("close", init);
  return Object.assign(new Event("close"), init);
}

/** One handler for every `ServerWebSocket`: the session's `data` is the socket. */
const WEB_HANDLER: WebSocketHandler<ServerWebSocket> = {
  open(ws) {
    ws.data._fire("open", new Event("open"));
  },
  message(ws, message) {
    const socket = ws.data;
    const data = typeof message === "string"
      ? message
      : socket.binaryType === "arraybuffer"
      ? (message.buffer as ArrayBuffer)
      : new Blob([message as Uint8Array<ArrayBuffer>]);
    socket._fire("message", new MessageEvent("message", { data }));
  },
  close(ws, code, reason) {
    const socket = ws.data;
    if (code === 1006 || code === 1002 || code === 1007 || code === 1009) socket._fire("error", new Event("error"));
    socket._fire("close", closeEvent(code, reason));
  },
};

/**
 * Upgrades `request` (received by an anyserve server) to a WebSocket, as
 * `Deno.upgradeWebSocket` does: return `response` from the handler, and
 * the connection answers 101 with its fields, then opens `socket`.
 * @throws {TypeError} when `request` was not received by an anyserve
 *   server, or is not a valid handshake (the client then gets the RFC's
 *   426 or 400 whatever the handler returns, unless it is a 4xx), or the
 *   server is over its WebSocket limit (the client gets a 503)
 */
export function upgradeWebSocket(request: Request, options: UpgradeWebSocketOptions = {}): { socket: ServerWebSocket; response: Response } {
  const hub = upgradableOf(request)?.webSockets as WebSocketHub | undefined;
  if (hub === undefined) throw new TypeError("upgradeWebSocket: not an upgrade request received by an anyserve server");
  const socket = new ServerWebSocket(request.url);
  const want = options.protocol;
  const r = hub.upgrade(request, WEB_HANDLER, socket, (offered) => (want !== undefined && offered.includes(want) ? want : null));
  if (!r.ok) throw new TypeError(`upgradeWebSocket: ${r.response.status} ${r.response.statusText || "refused"}`);
  socket._session = r.session;
  // The status is not used (the connection writes 101; Node cannot even build a 101 Response).
  return { socket, response: new Response(null) };
}
