/**
 * What an entry module's default export may be, turned into serve options:
 * a fetch function, a Hono app (or any object with a `fetch` method), or a
 * plain `{ fetch, port, ... }` object in the Bun / Deno `export default`
 * style, whose known option fields are used too.
 *
 * @module
 */

import type { FetchHandler, ServeOptions } from "../options.ts";
import { UsageError } from "./args.ts";

/**
 * Fields of a plain `export default { ... }` object that are serve options.
 * Others (Bun's `development`, `error`, ...) are ignored, not refused.
 */
const OBJECT_FIELDS = new Set([
  "port", "hostname", "reusePort", "onListen", "onError", "priority", "workers", "overloadStrategy", "lowWaterRatio",
  "maxHeaderBytes", "maxHeaderCount", "maxRequestTargetBytes", "maxBodyBytes", "maxPipelinedRequests",
  "keepAliveTimeoutMs", "headersTimeoutMs", "highWaterMarkBytes", "shutdownTimeoutMs", "requestTimeoutMs",
  "minBodyBytesPerSecond", "writeTimeoutMs", "maxConnections", "maxInFlightRequests", "maxQueuedRequests",
  "retryAfterSeconds", "tcpKeepAliveMs", "health", "accessLog", "websocket", "tls", "unix",
  "lightweightGlobals",
]);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The serve options an entry's module namespace stands for.
 * @param entry the path as the user gave it, for messages
 * @param mod the imported module namespace
 * @throws {UsageError} when there is no default export or it has the wrong shape
 */
export function entryOptions(entry: string, mod: Record<string, unknown>): Partial<ServeOptions> & { fetch: FetchHandler } {
  const shape = "a Hono app, an object with a fetch method, or a fetch function";
  if (!("default" in mod) || mod.default === undefined) {
    throw new UsageError(`${entry} has no default export: add \`export default app\` (${shape})`);
  }
  const value = mod.default;
  if (typeof value === "function") return { fetch: value as FetchHandler };
  if (value !== null && typeof value === "object" && typeof (value as { fetch?: unknown }).fetch === "function") {
    const object = value as Record<string, unknown> & { fetch: FetchHandler };
    const fetch = object.fetch.bind(object) as FetchHandler;
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) return { fetch }; // a Hono app or another class instance
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) if (k !== "fetch" && OBJECT_FIELDS.has(k)) options[k] = v;
    return { ...options, fetch } as Partial<ServeOptions> & { fetch: FetchHandler };
  }
  throw new UsageError(`${entry}'s default export is ${describe(value)} without a fetch method: export ${shape}`);
}
