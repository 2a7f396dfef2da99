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

import type { ConnInfo } from "./fetch/conn_info.ts";

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

/** Options for {@linkcode getConnInfo}. */
export interface GetConnInfoOptions {
  /**
   * Believe `Forwarded` / `X-Forwarded-For` from this many proxies in front
   * of the server (`true` = 1). Off by default: a client can write those
   * headers itself, so only trust them behind proxies you run.
   * @default false
   */
  trustProxy?: boolean | number;
}

function addressType(address: string): "IPv4" | "IPv6" | "unknown" {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return "IPv4";
  if (address.includes(":")) return "IPv6";
  return "unknown";
}

/** Addresses from `Forwarded: for=...` (RFC 7239), client first. */
function forwardedFor(value: string): string[] {
  const out: string[] = [];
  for (const element of value.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      // "[2001:db8::1]:4711" or "192.0.2.43:47011": drop brackets and port.
      if (v.startsWith("[")) v = v.slice(1, v.indexOf("]") === -1 ? undefined : v.indexOf("]"));
      else if (v.split(":").length === 2) v = v.slice(0, v.indexOf(":"));
      out.push(v);
    }
  }
  return out;
}

/**
 * The client's address for a request served by anyserve, in Hono's
 * `ConnInfo` shape. With `trustProxy`, the address comes from `Forwarded`
 * (preferred) or `X-Forwarded-For`: the entry added by the outermost trusted
 * proxy, so a client cannot choose it.
 * @param c the Hono context
 * @param options trust-proxy setting
 * @returns the remote address, port (when known) and address type
 * @throws {TypeError} when `c.env` is not anyserve's connection info
 */
export function getConnInfo(c: ContextLike, options: GetConnInfoOptions = {}): HonoConnInfo {
  const env = c.env as Partial<ConnInfo> | undefined;
  if (env === undefined || env === null || typeof env.remoteAddr !== "object") {
    throw new TypeError(`Invalid c.env "${String(env)}": getConnInfo needs a request served by anyserve`);
  }
  const hops = options.trustProxy === true ? 1 : typeof options.trustProxy === "number" ? options.trustProxy : 0;
  if (hops > 0) {
    const forwarded = c.req.header("forwarded");
    const chain = forwarded !== undefined ? forwardedFor(forwarded) : (c.req.header("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (chain.length > 0) {
      // Each trusted proxy appended one entry; the client is the one just
      // before the entries the trusted proxies added.
      const address = chain[Math.max(0, chain.length - hops)];
      return { remote: { address, addressType: addressType(address), transport: "tcp" } };
    }
  }
  const { hostname, port } = env.remoteAddr!;
  return { remote: { address: hostname, port, addressType: addressType(hostname), transport: "tcp" } };
}
