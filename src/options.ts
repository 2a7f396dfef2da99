/**
 * Server options: their types, defaults and validation.
 *
 * @module
 */

import type { ConnInfo } from "./fetch/conn_info.ts";

/** What `executionCtx` offers a handler (the shape Hono and Workers expect). */
export interface ExecutionContext {
  /** Keep the server from finishing a graceful shutdown until `promise` settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Accepted for compatibility; has no effect. */
  passThroughOnException(): void;
  /** Free-form properties, as on Cloudflare Workers. */
  props: Record<string, unknown>;
}

/** A fetch handler: Hono's `app.fetch` is one. */
export type FetchHandler = (
  request: Request,
  env: ConnInfo,
  ctx: ExecutionContext,
) => Response | Promise<Response>;

/** What {@linkcode serve} accepts. */
export interface ServeOptions {
  /** The handler every request goes to, e.g. Hono's `app.fetch`. */
  fetch: FetchHandler;
  /** Port to listen on; 0 picks a free one. @default 3000 */
  port?: number;
  /** Interface to bind. @default "0.0.0.0" */
  hostname?: string;
  /** Let several processes listen on the same port (SO_REUSEPORT). @default false */
  reusePort?: boolean;
  /** Aborting this signal closes the server gracefully. */
  signal?: AbortSignal;
  /** Called once the server listens. */
  onListen?: (address: { hostname: string; port: number }) => void;
  /**
   * Turns an error thrown by `fetch` into a response. Without it the client
   * gets a plain 500 and the error is logged with `console.error`.
   */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Request line plus header section, in bytes; larger heads get 431. @default 16384 */
  maxHeaderBytes?: number;
  /** Header fields per request; more get 431. @default 100 */
  maxHeaderCount?: number;
  /** Request-target length in bytes; longer gets 414. @default 8192 */
  maxRequestTargetBytes?: number;
  /** Request body size in bytes; larger gets 413. @default 16777216 (16 MiB) */
  maxBodyBytes?: number;
  /** Requests parsed ahead of their responses on one connection (pipelining depth). @default 64 */
  maxPipelinedRequests?: number;
  /** Close a keep-alive connection idle this long. @default 5000 */
  keepAliveTimeoutMs?: number;
  /** Answer 408 when a request head takes longer than this to arrive. @default 10000 */
  headersTimeoutMs?: number;
  /** Queued, unread request-body bytes above which reading from that socket stops. @default 65536 */
  highWaterMarkBytes?: number;
  /** How long `close()` waits for in-flight work before cutting connections. @default 10000 */
  shutdownTimeoutMs?: number;
}

/** Every option resolved to a value. */
export interface ResolvedOptions {
  fetch: FetchHandler;
  port: number;
  hostname: string;
  reusePort: boolean;
  signal: AbortSignal | undefined;
  onListen: ServeOptions["onListen"];
  onError: ServeOptions["onError"];
  maxHeaderBytes: number;
  maxHeaderCount: number;
  maxRequestTargetBytes: number;
  maxBodyBytes: number;
  maxPipelinedRequests: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  highWaterMarkBytes: number;
  shutdownTimeoutMs: number;
}

/** The defaults, one place. */
export const DEFAULTS = {
  port: 3000,
  hostname: "0.0.0.0",
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxRequestTargetBytes: 8 * 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  maxPipelinedRequests: 64,
  keepAliveTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  highWaterMarkBytes: 64 * 1024,
  shutdownTimeoutMs: 10_000,
} as const;

function positiveInt(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(`Invalid ${name} "${String(value)}": must be an integer >= ${min}`);
  }
  return value;
}

/**
 * Fills in defaults and checks every option.
 * @throws {TypeError} when `fetch` is not a function
 * @throws {RangeError} when a number is out of range
 */
export function resolveOptions(options: ServeOptions): ResolvedOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Invalid options "${String(options)}": expected an object with a fetch handler`);
  }
  if (typeof options.fetch !== "function") {
    throw new TypeError(`Invalid fetch "${String(options.fetch)}": expected a function (request) => Response`);
  }
  const port = options.port ?? DEFAULTS.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot listen on port "${String(port)}": port must be between 0 and 65535`);
  }
  return {
    fetch: options.fetch,
    port,
    hostname: options.hostname ?? DEFAULTS.hostname,
    reusePort: options.reusePort ?? false,
    signal: options.signal,
    onListen: options.onListen,
    onError: options.onError,
    maxHeaderBytes: positiveInt("maxHeaderBytes", options.maxHeaderBytes, DEFAULTS.maxHeaderBytes, 64),
    maxHeaderCount: positiveInt("maxHeaderCount", options.maxHeaderCount, DEFAULTS.maxHeaderCount),
    maxRequestTargetBytes: positiveInt("maxRequestTargetBytes", options.maxRequestTargetBytes, DEFAULTS.maxRequestTargetBytes),
    maxBodyBytes: positiveInt("maxBodyBytes", options.maxBodyBytes, DEFAULTS.maxBodyBytes, 0),
    maxPipelinedRequests: positiveInt("maxPipelinedRequests", options.maxPipelinedRequests, DEFAULTS.maxPipelinedRequests),
    keepAliveTimeoutMs: positiveInt("keepAliveTimeoutMs", options.keepAliveTimeoutMs, DEFAULTS.keepAliveTimeoutMs),
    headersTimeoutMs: positiveInt("headersTimeoutMs", options.headersTimeoutMs, DEFAULTS.headersTimeoutMs),
    highWaterMarkBytes: positiveInt("highWaterMarkBytes", options.highWaterMarkBytes, DEFAULTS.highWaterMarkBytes),
    shutdownTimeoutMs: positiveInt("shutdownTimeoutMs", options.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, 0),
  };
}
