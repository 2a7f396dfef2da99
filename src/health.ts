/**
 * Opt-in health and readiness routes (`serve({ health: { path, ready } })`),
 * answered by the server itself before the app: a wrapper around the
 * handler that `serveWith` installs only when the option is set, so the
 * request path is untouched otherwise.
 *
 * - `ready` (e.g. `/readyz`): 200 `ready` while `server.state` is
 *   `"ready"`; 503 `draining` (with `Connection: close`) from the moment
 *   `close()` or a reload's drain begins, so a balancer stops sending
 *   before connections close.
 * - `path` (e.g. `/healthz`): 200 with the process's stats summary as JSON
 *   while the process serves at all (also while draining), with its state.
 *
 * @module
 */

import type { FetchHandler, HealthOptions } from "./options.ts";

export type { HealthOptions } from "./options.ts";

/** What a probe reads: a `Server` (typed by shape, so this module needs not import `server.ts`). */
export interface ProbeTarget {
  readonly state: "starting" | "ready" | "draining" | "closed";
  stats(): object;
}

function checkPath(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !value.startsWith("/")) {
    throw new TypeError(`Invalid health.${name} "${String(value)}": must be a path starting with "/"`);
  }
  return value;
}

/** The request's path (no query), from `request.url`, without building a URL object. */
function pathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/**
 * Wraps `fetch` with the health routes.
 * @param server the server answering (read when a probe arrives)
 * @throws {TypeError} when a path does not start with "/"
 */
export function withHealth(fetch: FetchHandler, health: HealthOptions | true, server: () => ProbeTarget | undefined): FetchHandler {
  const h = health === true ? {} : health;
  if (h === null || typeof h !== "object") throw new TypeError(`Invalid health "${String(health)}": expected { path, ready } or true`);
  const live = checkPath("path", h.path, "/healthz");
  const ready = checkPath("ready", h.ready, "/readyz");
  return (request, env, ctx) => {
    const url = request.url;
    // Cheap first test: only paths of the right length are parsed further.
    const path = pathOf(url);
    if (path === ready) {
      const state = server()?.state ?? "starting";
      if (state === "ready") return new Response("ready\n", { headers: { "content-type": "text/plain", "cache-control": "no-store" } });
      return new Response(state + "\n", { status: 503, headers: { "content-type": "text/plain", "cache-control": "no-store", connection: "close" } });
    }
    if (path === live) {
      const s = server();
      const body = { status: s?.state ?? "starting", ...(s?.stats() ?? {}) };
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
    }
    return fetch(request, env, ctx);
  };
}
