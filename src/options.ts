/**
 * Server options: their types, defaults and validation.
 *
 * @module
 */

import type { ConnInfo } from "./fetch/conn_info.ts";
import { type OverloadStrategy, STRATEGIES } from "./backpressure.ts";
import type { WebSocketConfig } from "./ws/hub.ts";
import type { UnixListen } from "./socket.ts";
import { resolveTls, type TlsOptions, type TlsSettings } from "./tls.ts";
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

/**
 * A fetch handler: Hono's `app.fetch` is one. It may return nothing only
 * after upgrading its request (`if (env.upgrade(req)) return;`, as for Bun).
 */
export type FetchHandler = (
  request: Request,
  env: ConnInfo,
  ctx: ExecutionContext,
) => Response | void | undefined | Promise<Response | void | undefined>;

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
  /**
   * WebSockets, in Bun's shape: the handlers for sockets opened with
   * `env.upgrade()` / `server.upgrade()`, and the settings (message size,
   * idle timeout, pings, compression, backpressure) every WebSocket of the
   * server uses, whichever API opened it. See the README.
   */
  websocket?: WebSocketConfig;
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
  /**
   * Response bytes one connection may owe its peer (answered but not yet
   * taken: a client that pipelines and does not read). Past it the
   * connection parses no further request, so calls no further handler,
   * until the peer drains. The count bounds memory in bytes where
   * `maxPipelinedRequests` bounds it only in requests (64 responses of
   * 256 KiB pinned 16 MiB and more per connection). 1 MiB keeps a full
   * pipeline of small responses (wrk's 16 deep, or 64 of 16 KiB) running
   * unthrottled, and holds 10,000 stalled connections to about 10 GiB at
   * worst, the largest single response excepted. @default 1048576 (1 MiB)
   */
  maxQueuedResponseBytes?: number;
  /** Close a keep-alive connection idle this long. @default 5000 */
  keepAliveTimeoutMs?: number;
  /** Answer 408 when a request head takes longer than this to arrive (slowloris). @default 5000 */
  headersTimeoutMs?: number;
  /** Queued, unread request-body bytes above which reading from that socket stops. @default 65536 */
  highWaterMarkBytes?: number;
  /** How long `close()` waits for in-flight work before cutting connections. @default 10000 */
  shutdownTimeoutMs?: number;
  /**
   * During `close()`, a keep-alive connection with nothing to answer is
   * ended only once it has stayed silent this long, and a request that
   * arrives meanwhile is answered (with `Connection: close`): a client may
   * have written a request on it just before we stopped. It needs to cover
   * one round trip between the client (a proxy) and the server; 0 ends
   * idle connections at once. @default 250
   */
  shutdownGraceMs?: number;
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
  /**
   * A handler's life: when its `Response` has not settled this long after
   * the handler was called, the client gets 503 (and the connection closes),
   * the request's `signal` aborts and its in-flight slot is freed. It covers
   * the time until the Response (status, headers, first body bytes) is
   * settled, not the pumping of a streamed body after that (Server-Sent
   * Events and downloads run on; `writeTimeoutMs` bounds a reader that
   * stalls them). Checked once a second. 503 rather than 504: the server is
   * not a gateway (RFC 9110 §15.6.5), it is out of capacity for this
   * request. 0 turns it off. @default 60000 (as `requestTimeoutMs`)
   */
  handlerTimeoutMs?: number;
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
   * Serve HTTPS: one certificate, or a list chosen by the client's SNI name
   * (the first is the default). PEM strings or bytes. ALPN offers
   * `http/1.1`. Swap certificates later with `server.setTls()`.
   */
  tls?: TlsOptions | readonly TlsOptions[];
  /** Cut a TLS handshake that has not finished after this long (counted in `stats().connections.timedOut`). @default 5000 */
  tlsHandshakeTimeoutMs?: number;
  /**
   * Listen on a Unix-domain socket instead of TCP: its path, or
   * `{ path, mode, removeStale }` (`mode`: file mode set after binding, e.g.
   * `0o660`; `removeStale`: delete a socket file nobody accepts on before
   * binding, else such a file is an error). Excludes `port`, `hostname`,
   * `reusePort`, `fd` and `workers`.
   */
  unix?: string | { path: string; mode?: number; removeStale?: boolean };
  /**
   * Accept on an already-listening socket inherited as this file descriptor
   * (systemd socket activation: `fd: 3`, see `LISTEN_FDS`), instead of
   * binding. Node and Bun; Deno cannot (it throws). Excludes `port`,
   * `hostname`, `reusePort`, `unix` and `workers`.
   */
  fd?: number;
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
  /**
   * Opt-in, off by default: replace the process's global `Request`,
   * `Response` and `fetch` with lightweight ones (`src/fetch/light.ts`)
   * that cost a few property stores to make instead of the runtime's full
   * construction, which on Node (undici) is most of a small request's
   * cost. `instanceof`, `clone()`, streaming bodies and every property of
   * the runtime's own objects keep working; what it gives up is listed
   * in the README ("Lightweight globals"). For the whole process while
   * the server runs (until `finished`): every library in it sees them.
   * @default false
   */
  lightweightGlobals?: boolean;
}

/**
 * Every option name {@linkcode serve} knows; anything else is refused. A
 * record over `keyof ServeOptions`, so an option added to the interface and
 * not here fails the type check.
 */
const OPTION_NAMES: Record<keyof ServeOptions, true> = {
  fetch: true, websocket: true, port: true, hostname: true, reusePort: true, signal: true, onListen: true, onError: true,
  maxHeaderBytes: true, maxHeaderCount: true, maxRequestTargetBytes: true, maxBodyBytes: true,
  maxPipelinedRequests: true, maxQueuedResponseBytes: true, keepAliveTimeoutMs: true, headersTimeoutMs: true, highWaterMarkBytes: true,
  shutdownTimeoutMs: true, shutdownGraceMs: true, requestTimeoutMs: true, minBodyBytesPerSecond: true, writeTimeoutMs: true, handlerTimeoutMs: true,
  maxConnections: true, maxInFlightRequests: true, maxQueuedRequests: true, overloadStrategy: true,
  lowWaterRatio: true, retryAfterSeconds: true, priority: true, tcpKeepAliveMs: true, handleSignals: true,
  workers: true, tls: true, tlsHandshakeTimeoutMs: true, unix: true, fd: true, health: true, accessLog: true, lightweightGlobals: true,
};
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES));

/** Every option resolved to a value. */
export interface ResolvedOptions {
  fetch: FetchHandler;
  websocket: WebSocketConfig | undefined;
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
  maxQueuedResponseBytes: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  highWaterMarkBytes: number;
  shutdownTimeoutMs: number;
  shutdownGraceMs: number;
  requestTimeoutMs: number;
  minBodyBytesPerSecond: number;
  writeTimeoutMs: number;
  handlerTimeoutMs: number;
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
  tls: TlsSettings | undefined;
  tlsHandshakeTimeoutMs: number;
  unix: UnixListen | undefined;
  fd: number | undefined;
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
  maxQueuedResponseBytes: 1024 * 1024,
  keepAliveTimeoutMs: 5_000,
  headersTimeoutMs: 5_000,
  highWaterMarkBytes: 64 * 1024,
  shutdownTimeoutMs: 10_000,
  // One round trip between a proxy and its upstream, with room: within a
  // region that is under 5 ms, across continents 100-250 ms. Each idle
  // connection adds this much to a shutdown, small next to shutdownTimeoutMs.
  shutdownGraceMs: 250,
  requestTimeoutMs: 60_000,
  minBodyBytesPerSecond: 1024,
  writeTimeoutMs: 30_000,
  handlerTimeoutMs: 60_000,
  maxConnections: 16_384,
  maxInFlightRequests: 4096,
  maxQueuedRequests: 1024,
  overloadStrategy: "slow_down",
  lowWaterRatio: 0.8,
  retryAfterSeconds: 1,
  tcpKeepAliveMs: 0,
  tlsHandshakeTimeoutMs: 5_000,
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
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) {
      throw new TypeError(`Unknown option "${name}": serve() does not know it (a typo, or an option of another server?); it would otherwise be ignored`);
    }
  }
  const unix = unixListen(options.unix);
  const fd = options.fd === undefined ? undefined : positiveInt("fd", options.fd, 0, 0);
  if (unix !== undefined || fd !== undefined) {
    const what = unix !== undefined ? "unix" : "fd";
    for (const other of ["port", "hostname", "reusePort", "workers", unix !== undefined ? "fd" : "unix"] as const) {
      if (options[other] !== undefined) throw new TypeError(`Options ${what} and ${other} exclude each other: ${what} listens on no TCP port of its own`);
    }
  }
  const port = options.port ?? DEFAULTS.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot listen on port "${String(port)}": port must be between 0 and 65535`);
  }
  return {
    fetch: options.fetch,
    websocket: webSocketConfig(options.websocket),
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
    maxQueuedResponseBytes: positiveInt("maxQueuedResponseBytes", options.maxQueuedResponseBytes, DEFAULTS.maxQueuedResponseBytes),
    keepAliveTimeoutMs: positiveInt("keepAliveTimeoutMs", options.keepAliveTimeoutMs, DEFAULTS.keepAliveTimeoutMs),
    headersTimeoutMs: positiveInt("headersTimeoutMs", options.headersTimeoutMs, DEFAULTS.headersTimeoutMs),
    highWaterMarkBytes: positiveInt("highWaterMarkBytes", options.highWaterMarkBytes, DEFAULTS.highWaterMarkBytes),
    shutdownTimeoutMs: positiveInt("shutdownTimeoutMs", options.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, 0),
    shutdownGraceMs: positiveInt("shutdownGraceMs", options.shutdownGraceMs, DEFAULTS.shutdownGraceMs, 0),
    requestTimeoutMs: positiveInt("requestTimeoutMs", options.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
    minBodyBytesPerSecond: positiveInt("minBodyBytesPerSecond", options.minBodyBytesPerSecond, DEFAULTS.minBodyBytesPerSecond, 0),
    writeTimeoutMs: positiveInt("writeTimeoutMs", options.writeTimeoutMs, DEFAULTS.writeTimeoutMs),
    handlerTimeoutMs: positiveInt("handlerTimeoutMs", options.handlerTimeoutMs, DEFAULTS.handlerTimeoutMs, 0),
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
    tls: options.tls === undefined ? undefined : resolveTls(options.tls),
    tlsHandshakeTimeoutMs: positiveInt("tlsHandshakeTimeoutMs", options.tlsHandshakeTimeoutMs, DEFAULTS.tlsHandshakeTimeoutMs),
    unix,
    fd,
  };
}

function webSocketConfig(ws: WebSocketConfig | undefined): WebSocketConfig | undefined {
  if (ws === undefined) return undefined;
  if (ws === null || typeof ws !== "object") throw new TypeError(`Invalid websocket "${String(ws)}": expected an object of handlers and settings`);
  for (const k of ["maxPayloadLength", "backpressureLimit", "maxWebSockets"] as const) positiveInt(`websocket.${k}`, ws[k], 0, 1);
  for (const k of ["idleTimeout", "closeTimeout"] as const) {
    const v = ws[k];
    if (v !== undefined && (typeof v !== "number" || !(v >= 0))) throw new RangeError(`Invalid websocket.${k} "${String(v)}": must be seconds >= 0`);
  }
  return ws;
}

function unixListen(value: ServeOptions["unix"]): UnixListen | undefined {
  if (value === undefined) return undefined;
  const o = typeof value === "string" ? { path: value } : value;
  if (o === null || typeof o !== "object" || typeof o.path !== "string" || o.path === "") {
    throw new TypeError(`Invalid unix "${String(value)}": expected a socket file path or { path, mode?, removeStale? }`);
  }
  for (const k of Object.keys(o)) {
    if (k !== "path" && k !== "mode" && k !== "removeStale") throw new TypeError(`Unknown option unix.${k}: unix takes path, mode, removeStale`);
  }
  const { mode, removeStale } = o as { mode?: unknown; removeStale?: unknown };
  if (mode !== undefined && (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o777)) {
    throw new RangeError(`Invalid unix.mode "${String(mode)}": a file mode between 0 and 0o777`);
  }
  if (removeStale !== undefined && typeof removeStale !== "boolean") throw new TypeError(`Invalid unix.removeStale "${String(removeStale)}": expected a boolean`);
  return { path: o.path, mode: mode as number | undefined, removeStale: removeStale === true };
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
