/**
 * Server options: their types, defaults and validation.
 *
 * @module
 */

import type { ConnInfo } from "./fetch/conn_info.ts";
import { type OverloadStrategy, STRATEGIES } from "./backpressure.ts";
import type { AccessLogOption } from "./access_log.ts";

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

/** What `health` accepts (served by `src/health.ts`). */
export interface HealthOptions {
  /** Liveness path answered with the stats summary. @default "/healthz" */
  path?: string;
  /** Readiness path: 200 while ready, 503 while starting or draining. @default "/readyz" */
  ready?: string;
}

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
  /**
   * Header fields per request; more get 431. The default is node:http's
   * `maxHeadersCount` (2000; node:http refuses no count, only bytes): no
   * real client comes near it, and `maxHeaderBytes` already bounds the
   * memory a head takes. (Measured: Deno.serve refuses more than 128 fields,
   * Bun.serve more than 198.) @default 2000
   */
  maxHeaderCount?: number;
  /** Request-target length in bytes; longer gets 414. @default 8192 */
  maxRequestTargetBytes?: number;
  /** Request body size in bytes; larger gets 413. @default 16777216 (16 MiB) */
  maxBodyBytes?: number;
  /** Requests parsed ahead of their responses on one connection (pipelining depth). @default 64 */
  maxPipelinedRequests?: number;
  /** Close a keep-alive connection idle this long. @default 5000 */
  keepAliveTimeoutMs?: number;
  /** Answer 408 when a request head takes longer than this to arrive (slowloris). @default 5000 */
  headersTimeoutMs?: number;
  /** Queued, unread request-body bytes above which reading from that socket stops. @default 65536 */
  highWaterMarkBytes?: number;
  /** How long `close()` waits for in-flight work before cutting connections. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Answer 408 and close when a request body has not fully arrived this long after its head. @default 60000 */
  requestTimeoutMs?: number;
  /**
   * Minimum average rate a request body must arrive at, once it has been
   * arriving for `headersTimeoutMs` (slow-POST defence); 0 turns it off.
   * Time the server itself stopped reading (backpressure) does not count.
   * @default 1024
   */
  minBodyBytesPerSecond?: number;
  /** Close a connection whose peer has not taken any response bytes for this long. @default 30000 */
  writeTimeoutMs?: number;
  /** Open connections; what happens past it is `overloadStrategy`'s call. @default 16384 */
  maxConnections?: number;
  /** Requests running in handlers at once, across connections. @default 4096 */
  maxInFlightRequests?: number;
  /** Requests waiting for admission when `maxInFlightRequests` is reached. @default 1024 */
  maxQueuedRequests?: number;
  /** What to do when a limit is reached: see the README. @default "slow_down" */
  overloadStrategy?: OverloadStrategy;
  /** Fraction of a limit under which `slow_down` resumes reading and accepting. @default 0.8 */
  lowWaterRatio?: number;
  /** `Retry-After` seconds in 503 answers to refused work. @default 1 */
  retryAfterSeconds?: number;
  /** Request priority for `shed_load` (higher is kept longer). @default () => 0 */
  priority?: (request: Request) => number;
  /** Send TCP keep-alive probes after this much idle time; 0 leaves the runtime default (off). @default 0 */
  tcpKeepAliveMs?: number;
  /** Close gracefully on SIGTERM and SIGINT (where the runtime has signals). @default false */
  handleSignals?: boolean;
  /**
   * Run this many worker processes that all accept on the same port
   * (SO_REUSEPORT), under a supervisor in this process that restarts
   * crashed workers and forwards SIGTERM/SIGINT; `"auto"` is one per
   * available core. Each worker re-runs the entry script. See `src/cluster.ts`.
   * @default undefined (one process, no supervisor)
   */
  workers?: number | "auto";
  /**
   * Health and readiness routes answered before `fetch` (`true`: `/healthz`
   * and `/readyz`); see `src/health.ts`. @default undefined (off)
   */
  health?: HealthOptions | boolean;
  /**
   * One line per request: `true` or `"json"` (JSON lines on stdout),
   * `"common"` (Common Log Format on stdout), or a function given each
   * line's fields. See `src/access_log.ts`. @default undefined (off)
   */
  accessLog?: AccessLogOption;
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
  requestTimeoutMs: number;
  minBodyBytesPerSecond: number;
  writeTimeoutMs: number;
  maxConnections: number;
  maxInFlightRequests: number;
  maxQueuedRequests: number;
  overloadStrategy: OverloadStrategy;
  lowWaterRatio: number;
  retryAfterSeconds: number;
  priority: ((request: Request) => number) | undefined;
  tcpKeepAliveMs: number;
  handleSignals: boolean;
  /** Worker processes to run; 0: serve in this process. */
  workers: number;
}

/** The defaults, one place. */
export const DEFAULTS = {
  port: 3000,
  hostname: "0.0.0.0",
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 2000,
  maxRequestTargetBytes: 8 * 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  maxPipelinedRequests: 64,
  keepAliveTimeoutMs: 5_000,
  headersTimeoutMs: 5_000,
  highWaterMarkBytes: 64 * 1024,
  shutdownTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  minBodyBytesPerSecond: 1024,
  writeTimeoutMs: 30_000,
  maxConnections: 16_384,
  maxInFlightRequests: 4096,
  maxQueuedRequests: 1024,
  overloadStrategy: "slow_down",
  lowWaterRatio: 0.8,
  retryAfterSeconds: 1,
  tcpKeepAliveMs: 0,
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
    requestTimeoutMs: positiveInt("requestTimeoutMs", options.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
    minBodyBytesPerSecond: positiveInt("minBodyBytesPerSecond", options.minBodyBytesPerSecond, DEFAULTS.minBodyBytesPerSecond, 0),
    writeTimeoutMs: positiveInt("writeTimeoutMs", options.writeTimeoutMs, DEFAULTS.writeTimeoutMs),
    maxConnections: positiveInt("maxConnections", options.maxConnections, DEFAULTS.maxConnections),
    maxInFlightRequests: positiveInt("maxInFlightRequests", options.maxInFlightRequests, DEFAULTS.maxInFlightRequests),
    maxQueuedRequests: positiveInt("maxQueuedRequests", options.maxQueuedRequests, DEFAULTS.maxQueuedRequests, 0),
    overloadStrategy: strategy(options.overloadStrategy),
    lowWaterRatio: ratio(options.lowWaterRatio),
    retryAfterSeconds: positiveInt("retryAfterSeconds", options.retryAfterSeconds, DEFAULTS.retryAfterSeconds, 0),
    priority: fn("priority", options.priority),
    tcpKeepAliveMs: positiveInt("tcpKeepAliveMs", options.tcpKeepAliveMs, DEFAULTS.tcpKeepAliveMs, 0),
    handleSignals: options.handleSignals ?? false,
    workers: workerCount(options.workers),
  };
}

function workerCount(value: unknown): number {
  if (value === undefined) return 0;
  if (value === "auto") {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`Invalid workers "${String(value)}": must be a positive integer or "auto"`);
  }
  return value;
}

function strategy(value: unknown): OverloadStrategy {
  if (value === undefined) return DEFAULTS.overloadStrategy;
  if (!STRATEGIES.includes(value as OverloadStrategy)) {
    throw new TypeError(`Invalid overloadStrategy "${String(value)}": must be one of ${STRATEGIES.join(", ")}`);
  }
  return value as OverloadStrategy;
}

function ratio(value: unknown): number {
  if (value === undefined) return DEFAULTS.lowWaterRatio;
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    throw new RangeError(`Invalid lowWaterRatio "${String(value)}": must be in (0, 1]`);
  }
  return value;
}

function fn<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`Invalid ${name} "${String(value)}": expected a function`);
  }
  return value;
}
