/**
 * Hono helpers: `getConnInfo(c)` for apps served by anyserve, with an
 * opt-in trust-proxy mode. It needs nothing from Hono at run time: it reads
 * `c.env` (the connection info anyserve passes) and `c.req`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { serve } from "anyserve";
 * import { getConnInfo } from "anyserve/hono";
 *
 * const app = new Hono();
 * app.get("/ip", (c) => c.text(getConnInfo(c).remote.address ?? "?"));
 * serve({ fetch: app.fetch });
 * ```
 *
 * @module
 */

import { createWSMessageEvent, defineWebSocketHelper, WSContext } from "hono/ws";
import type { UpgradeWebSocket, WSContextInit, WSEvents } from "hono/ws";
import type { ConnInfo } from "./fetch/conn_info.ts";
import { upgradableOf } from "./connection/protocol.ts";
import { isWebSocketUpgrade } from "./ws/handshake.ts";
import type { WebSocketHub } from "./ws/hub.ts";
import type { WebSocketHandler, WebSocketSession } from "./ws/session.ts";
import type { TlsInfo } from "./tls.ts";

/**
 * What {@linkcode getConnInfo} returns: Hono's `ConnInfo` shape
 * (`hono/conninfo`), not anyserve's {@linkcode ConnInfo} (the handler's
 * `env`, which it is read from).
 */
export interface HonoConnInfo {
  /** The client side of the connection. */
  remote: {
    address?: string;
    port?: number;
    addressType?: "IPv4" | "IPv6" | "unknown";
    transport?: "tcp" | "udp";
  };
  /**
   * `"https"` or `"http"`: the connection's own (anyserve's addition to
   * Hono's shape). With `trustProxy: { header: "forwarded" }`, the `proto=`
   * of the trusted proxy's element when it has one.
   */
  protocol: "http" | "https";
  /** The connection's TLS handshake (SNI name, ALPN, client certificate); absent on plain HTTP. */
  tls?: TlsInfo;
}

/** @deprecated The old name of {@linkcode HonoConnInfo}, kept for existing imports; anyserve's own `ConnInfo` is the handler's `env`. */
export type { HonoConnInfo as ConnInfo };

/** The part of a Hono `Context` this helper reads. */
export interface ContextLike {
  /** anyserve's connection info. */
  env: unknown;
  /** The request, for forwarding headers. */
  req: { header(name: string): string | undefined };
}

/** The forwarding header a trusted proxy writes, and how many such proxies there are. */
export interface TrustProxy {
  /**
   * The one header your proxies write; any other forwarding header is the
   * client's and is ignored. `"x-forwarded-for"` and `"forwarded"`
   * (RFC 7239) are lists each proxy appends to; `"x-real-ip"` is a single
   * address the (one) proxy sets, replacing what the client sent.
   */
  header: "x-forwarded-for" | "forwarded" | "x-real-ip";
  /**
   * Trusted proxies in front of the server, each appending one entry to
   * `header`; the client is the entry the outermost one added. Must be 1
   * for `"x-real-ip"`. @default 1
   */
  hops?: number;
}

/** Options for {@linkcode getConnInfo}. */
export interface GetConnInfoOptions {
  /**
   * Believe the client address your proxies put in a forwarding header.
   * Off by default: a client can write those headers itself, so name the
   * one header your proxies write (and overwrite or append to), and only
   * behind proxies you run. For nginx's usual
   * `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`:
   * `{ header: "x-forwarded-for", hops: 1 }`.
   */
  trustProxy?: TrustProxy;
}

const TRUST_PROXY_SHAPE = '{ header: "x-forwarded-for" | "forwarded" | "x-real-ip", hops?: number }';

/** The validated hop count of `trustProxy`, 0 when off; throws on anything ambiguous. */
function trustedHops(trust: unknown): number {
  if (trust === undefined || trust === false) return 0;
  if (trust === null || typeof trust !== "object") {
    throw new TypeError(
      `getConnInfo: trustProxy must name the header your proxy writes, as ${TRUST_PROXY_SHAPE}; ` +
        `got ${String(trust)} (a bare \`true\` or hop count made it guess the header, and a client ` +
        `could then supply the one your proxy does not write)`,
    );
  }
  const { header, hops = 1 } = trust as TrustProxy;
  if (header !== "x-forwarded-for" && header !== "forwarded" && header !== "x-real-ip") {
    throw new TypeError(`getConnInfo: trustProxy.header must be "x-forwarded-for", "forwarded" or "x-real-ip", got ${JSON.stringify(header)}`);
  }
  if (!Number.isInteger(hops) || hops < 1) {
    throw new TypeError(`getConnInfo: trustProxy.hops must be a whole number of proxies, 1 or more, got ${String(hops)}`);
  }
  if (header === "x-real-ip" && hops !== 1) {
    throw new TypeError('getConnInfo: trustProxy "x-real-ip" holds one address, set by the proxy next to the server: hops must be 1');
  }
  return hops;
}

function addressType(address: string): "IPv4" | "IPv6" | "unknown" {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return "IPv4";
  if (address.includes(":")) return "IPv6";
  return "unknown";
}

/**
 * One address per `Forwarded` element (RFC 7239 §4), client first: each
 * proxy appends one element, so elements are what hops count; one without
 * `for` counts as `"unknown"`.
 */
function forwardedFor(value: string): string[] {
  const out: string[] = [];
  for (const element of value.split(",")) {
    let address = "unknown";
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      // "[2001:db8::1]:4711" or "192.0.2.43:47011": drop brackets and port.
      if (v.startsWith("[")) v = v.slice(1, v.indexOf("]") === -1 ? undefined : v.indexOf("]"));
      else if (v.split(":").length === 2) v = v.slice(0, v.indexOf(":"));
      address = v;
    }
    out.push(address);
  }
  return out;
}

/**
 * The `proto=` of the `Forwarded` element the outermost trusted proxy added
 * (RFC 7239 §5.4: the scheme that proxy was reached with), when it says.
 */
function forwardedProto(value: string, hops: number): "http" | "https" | undefined {
  const elements = value.split(",");
  const element = elements[Math.max(0, elements.length - hops)];
  for (const pair of element.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== "proto") continue;
    const p = pair.slice(eq + 1).trim().replace(/^"|"$/g, "").toLowerCase();
    return p === "https" ? "https" : p === "http" ? "http" : undefined;
  }
  return undefined;
}

/**
 * The client's address for a request served by anyserve, in Hono's
 * `ConnInfo` shape. With `trustProxy`, the address comes from the header
 * it names, and only from it: the entry added by the outermost trusted
 * proxy, so a client cannot choose it. Without the header (a request that
 * did not come through the proxy), it is the socket's peer.
 * @param c the Hono context
 * @param options trust-proxy setting
 * @returns the remote address, port (when known) and address type
 * @throws {TypeError} when `c.env` is not anyserve's connection info, or
 *   `trustProxy` does not name a header (the old `true` / hop count)
 */
export function getConnInfo(c: ContextLike, options: GetConnInfoOptions = {}): HonoConnInfo {
  const env = c.env as Partial<ConnInfo> | undefined;
  if (env === undefined || env === null || typeof env.remoteAddr !== "object") {
    throw new TypeError(`Invalid c.env "${String(env)}": getConnInfo needs a request served by anyserve`);
  }
  const hops = trustedHops(options.trustProxy);
  const own = env.protocol === "https" ? "https" : "http";
  const tls = env.tls ?? undefined;
  const extra = tls !== undefined ? { protocol: own, tls } as const : { protocol: own } as const;
  if (hops > 0) {
    const header = options.trustProxy!.header;
    const value = c.req.header(header);
    if (value !== undefined) {
      const chain = header === "forwarded"
        ? forwardedFor(value)
        : header === "x-forwarded-for"
        ? value.split(",").map((s) => s.trim()).filter(Boolean)
        : [value.trim()].filter(Boolean);
      if (chain.length > 0) {
        // Each trusted proxy appended one entry; the client is the one just
        // before the entries the trusted proxies added.
        const address = chain[Math.max(0, chain.length - hops)];
        // Forwarded also says how the client reached that proxy (proto=).
        const protocol = header === "forwarded" ? (forwardedProto(value, hops) ?? own) : own;
        return { remote: { address, addressType: addressType(address), transport: "tcp" }, ...extra, protocol };
      }
    }
  }
  const { hostname, port } = env.remoteAddr!;
  return { remote: { address: hostname, port, addressType: addressType(hostname), transport: "tcp" }, ...extra };
}

// ---- WebSockets --------------------------------------------------------

/** What a Hono WebSocket's session carries: the app's events and its `WSContext`. */
interface HonoSocket {
  events: WSEvents<WebSocketSession<HonoSocket>>;
  url: string;
  ctx: WSContext<WebSocketSession<HonoSocket>> | null;
}

function contextOf(ws: WebSocketSession<HonoSocket>): WSContext<WebSocketSession<HonoSocket>> {
  const d = ws.data;
  if (d.ctx === null) {
    const init: WSContextInit<WebSocketSession<HonoSocket>> = {
      send(source, options) {
        ws.send(source, options?.compress ?? true);
      },
      close(code, reason) {
        ws.close(code ?? 1000, reason ?? "");
      },
      raw: ws,
      get readyState() {
        return ws.readyState as 0 | 1 | 2 | 3;
      },
      url: d.url,
      protocol: ws.protocol,
    };
    d.ctx = new WSContext(init);
  }
  return d.ctx;
}

function errorEvent(error: unknown): Event {
  return Object.assign(new Event("error"), { error });
}

/** One handler for every Hono WebSocket: the session's `data` holds the app's events. */
const HONO_HANDLER: WebSocketHandler<HonoSocket> = {
  open(ws) {
    return ws.data.events.onOpen?.(new Event("open"), contextOf(ws));
  },
  message(ws, message) {
    const on = ws.data.events.onMessage;
    if (on === undefined) return;
    const ctx = contextOf(ws);
    const data = typeof message === "string"
      ? message
      : ctx.binaryType === "blob"
      ? new Blob([message as Uint8Array<ArrayBuffer>])
      : message.buffer;
    return on(createWSMessageEvent(data), ctx) as void | Promise<void>;
  },
  close(ws, code, reason) {
    const init = { code, reason, wasClean: code !== 1006 };
    const ev = typeof CloseEvent === "function" ? new CloseEvent("close", init) : Object.assign(new Event("close"), init) as CloseEvent;
    ws.data.events.onClose?.(ev, contextOf(ws));
  },
  error(ws, error) {
    const on = ws.data.events.onError;
    if (on === undefined) console.error(error);
    else on(errorEvent(error), contextOf(ws));
  },
};

/**
 * Hono's `upgradeWebSocket` for apps served by anyserve, on Node, Deno and
 * Bun alike (made with Hono's own `defineWebSocketHelper`, so the events get
 * Hono's `WSContext`: `send`, `close`, `raw` (anyserve's session),
 * `readyState`, `protocol`, `url`). Fields middleware set on the response
 * (CORS, secure headers, cookies) go out on the 101. A request without
 * `Upgrade: websocket` goes on to the next handler; an invalid handshake
 * gets the RFC's 426 or 400, and one over the server's WebSocket limit a 503.
 * The subprotocol agreed is the first the client offered (as on Bun).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { serve } from "anyserve";
 * import { upgradeWebSocket } from "anyserve/hono";
 *
 * const app = new Hono();
 * app.get("/ws", upgradeWebSocket(() => ({
 *   onMessage(e, ws) { ws.send(`echo: ${e.data}`); },
 * })));
 * serve({ fetch: app.fetch });
 * ```
 */
export const upgradeWebSocket: UpgradeWebSocket<WebSocketSession<HonoSocket>> = defineWebSocketHelper<WebSocketSession<HonoSocket>>(
  (c, events) => {
    const request = c.req.raw;
    if (!isWebSocketUpgrade(request)) return;
    const hub = upgradableOf(request)?.webSockets as WebSocketHub | undefined;
    if (hub === undefined) throw new TypeError("upgradeWebSocket: the request was not received by an anyserve server");
    const r = hub.upgrade<HonoSocket>(request, HONO_HANDLER, { events, url: request.url, ctx: null });
    if (!r.ok) return r.response;
    // The status is not used: the connection answers 101 with this response's fields.
    return new Response(null);
  },
);
