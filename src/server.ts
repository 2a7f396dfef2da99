/**
 * The server: binds a transport, accepts connections into the pool, applies
 * the overload strategy, keeps statistics and runs the shutdown sequence.
 * Runtime-free: the transport comes from an adapter.
 *
 * @module
 */

import { listenUrl } from "./_util/url.ts";
import { abortRequest } from "./fetch/request.ts";
import type { Listener, Socket, SocketEvents, Transport } from "./socket.ts";
import { type ExecutionContext, resolveOptions, type ResolvedOptions, type ServeOptions } from "./options.ts";
import { Connection, type ConnectionHost } from "./connection/connection.ts";
import type { Exchange } from "./connection/exchange.ts";
import { refusedConnectionBytes } from "./http/errors.ts";
import { type Admission, BackpressureManager, type Job } from "./backpressure.ts";
import { ConnectionPool } from "./pool.ts";
import { type ServerStats, StatsCounters } from "./stats.ts";
import { type UpgradeOptions, WebSocketHub } from "./ws/hub.ts";
import { resolveTls, type TlsOptions } from "./tls.ts";
import { AccessLog, accessLogFormat } from "./access_log.ts";
import { WORKER_ID_ENV } from "./process.ts";

export type { ServerStats } from "./stats.ts";

/** What {@linkcode Server.close} reports. */
export interface CloseSummary {
  /** Requests answered after shutdown began. */
  finished: number;
  /** Requests received and not answered, cut at the deadline. */
  cut: number;
  /** WebSockets open when shutdown began, each sent a 1001 close. */
  webSockets: {
    /** Closed with a close handshake (or by the peer) before the deadline. */
    closed: number;
    /** Cut: the close handshake did not finish by the deadline, or the peer dropped TCP. */
    cut: number;
  };
}

/** Options for {@linkcode Server.close}. */
export interface CloseOptions {
  /** Cut what is still running after this long. @default options.shutdownTimeoutMs */
  deadlineMs?: number;
  /**
   * Keep the listener open, accepting and answering (with `Connection:
   * close`), until no connection arrived for {@linkcode LINGER_QUIET_MS},
   * at most this long; then close it. For a worker handing its port over
   * to `reusePort` siblings (a reload): closing a listener resets the
   * connections waiting in its accept queue, so it closes only once
   * clients have stopped arriving there. @default 0 (close at once)
   */
  lingerMs?: number;
}

/**
 * How long a lingering listener must see no new connection before it
 * closes (`CloseOptions.lingerMs`). A keep-alive client reconnects within
 * a round trip of being closed; 250 ms is many round trips on a LAN.
 */
export const LINGER_QUIET_MS = 250;

/**
 * Where a server is in its life: `starting` (not listening yet), `ready`
 * (listening), `draining` (`close()` or a reload began: finishing what it
 * has), `closed`.
 */
export type ServerState = "starting" | "ready" | "draining" | "closed";

/** A running server. */
export interface Server {
  /** Where it is in its life; see {@linkcode ServerState}. */
  readonly state: ServerState;
  /** Resolves once the server listens (rejects if it cannot bind). */
  readonly ready: Promise<Server>;
  /** Resolves once the server is closed and every connection is gone. */
  readonly finished: Promise<void>;
  /** The bound address; port is 0 until `ready` resolves (and on a Unix socket, whose file is `path`). */
  readonly address: { hostname: string; port: number; path?: string };
  /** The bound port (0 until `ready`). */
  readonly port: number;
  /** `http://hostname:port/`, or `https://` with TLS. */
  readonly url: string;
  /**
   * Swaps the TLS certificates (same shape as the `tls` option) without
   * dropping a connection: handshakes after the promise resolves get the new
   * ones. Rejects, keeping the old certificates, when the new ones are
   * refused, when the server was not started with `tls`, or where the
   * runtime cannot (see the README).
   */
  setTls(tls: TlsOptions | readonly TlsOptions[]): Promise<void>;
  /**
   * Graceful shutdown: stop accepting at once, answer every request that
   * reaches a connection before it says it closes (the last answer on each
   * carries `Connection: close`), end a connection with nothing to answer
   * once it has stayed silent for `shutdownGraceMs`, wait for `waitUntil`
   * promises, and cut whatever is left at the deadline. Calling it again
   * returns the same promise.
   */
  close(options?: CloseOptions): Promise<CloseSummary>;
  /** Counters and gauges; see {@linkcode ServerStats}. */
  stats(): ServerStats;
  /**
   * Bun's `server.upgrade(request, { data, headers })`: the same as
   * `env.upgrade` (see `ConnInfo.upgrade`), for handlers that hold the server.
   */
  upgrade(request: Request, options?: UpgradeOptions): boolean;
  /** Bun's `server.publish(topic, data, compress?)`: to every WebSocket subscribed to `topic`. */
  publish(topic: string, data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number;
  /** WebSockets subscribed to `topic`. */
  subscriberCount(topic: string): number;
}

const SWEEP_INTERVAL_MS = 1000;
const NO_EVENTS: SocketEvents = { data() {}, drain() {}, end() {}, close() {} };

class ServerImpl implements Server, ConnectionHost {
  readonly options: ResolvedOptions;
  readonly runtime: string;
  readonly ctx: ExecutionContext;
  readonly staticBody: ConnectionHost["staticBody"];
  readonly responseFields: ConnectionHost["responseFields"];
  readonly peek: ConnectionHost["peek"];
  readonly impliedType: ConnectionHost["impliedType"];
  readonly makeRequest: ConnectionHost["makeRequest"];
  readonly counters = new StatsCounters();
  readonly webSockets: WebSocketHub;
  readonly accessLog: AccessLog | null;
  state: Server["state"] = "starting";
  readonly ready: Promise<Server>;
  readonly finished: Promise<void>;
  closing = false;
  address = { hostname: "", port: 0 };
  #transport: Transport;
  #listener: Listener | null = null;
  #pool: ConnectionPool;
  #backpressure: BackpressureManager;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #resolveFinished!: () => void;
  #closePromise: Promise<CloseSummary> | null = null;
  /** During close(): how long an idle connection must stay silent before it is ended (`shutdownGraceMs`). */
  #grace = 0;
  #allClosed: (() => void) | null = null;
  #waitUntil = new Set<Promise<unknown>>();
  /** Exchanges off their connection whose handler still runs, holding a slot. */
  #orphans = new Set<Exchange>();
  /** Responses written before shutdown began (the summary counts those after). */
  #answeredBeforeClose = 0;
  #unsubscribeSignals: (() => void) | undefined;
  #lingering = false;
  #lastAcceptAt = 0;

  constructor(transport: Transport, options: ServeOptions) {
    this.options = resolveOptions(options);
    // deno-lint-ignore no-this-alias
    const self = this;
    this.runtime = transport.runtime;
    this.#transport = transport;
    this.staticBody = transport.staticBody?.bind(transport);
    this.responseFields = transport.responseFields?.bind(transport);
    this.peek = transport.peek?.bind(transport);
    this.impliedType = transport.impliedType?.bind(transport);
    this.makeRequest = transport.makeRequest?.bind(transport);
    const o = this.options;
    const log = accessLogFormat(options.accessLog);
    if (log === null) this.accessLog = null;
    else {
      const processes = (transport as { processes?: { env(name: string): string | undefined } }).processes;
      const worker = Number(processes?.env(WORKER_ID_ENV) ?? 0) || 0;
      const write = transport.writeOut?.bind(transport) ?? ((text: string) => console.log(text.slice(0, -1)));
      this.accessLog = new AccessLog(log, write, worker);
    }
    this.#pool = new ConnectionPool(o.maxConnections);
    this.webSockets = new WebSocketHub(o.websocket, transport.webSocketDeflate, {
      get gated() {
        return self.gated;
      },
      get closing() {
        return self.closing;
      },
      retryAfterSeconds: o.retryAfterSeconds,
    });
    this.#backpressure = new BackpressureManager(
      {
        strategy: o.overloadStrategy,
        maxInFlightRequests: o.maxInFlightRequests,
        maxQueuedRequests: o.overloadStrategy === "reject" ? 0 : o.maxQueuedRequests,
        lowWaterRatio: o.lowWaterRatio,
      },
      () => {
        for (const conn of this.#pool) conn.gateChanged();
        if (!this.#backpressure.gated) this.#unparkSome();
      },
    );
    const waitUntil = this.#waitUntil;
    this.ctx = {
      waitUntil(promise: Promise<unknown>) {
        const p = Promise.resolve(promise).catch(() => {});
        waitUntil.add(p);
        p.finally(() => waitUntil.delete(p));
      },
      passThroughOnException() {},
      props: {},
    };
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    this.ready = this.#listen();
    // A caller that only awaits `finished` must not get an unhandled rejection.
    this.ready.catch(() => {});
  }

  async #listen(): Promise<Server> {
    const o = this.options;
    this.#listener = await this.#transport.listen(
      {
        hostname: o.hostname,
        port: o.port,
        reusePort: o.reusePort,
        tcpKeepAliveMs: o.tcpKeepAliveMs,
        unix: o.unix,
        fd: o.fd,
        tls: o.tls,
        tlsHandshakeTimeoutMs: o.tlsHandshakeTimeoutMs,
        onTlsHandshakeTimeout: () => this.counters.timedOut++,
      },
      (socket) => this.#accept(socket),
    );
    this.address = this.#listener.address;
    if (!this.closing) this.state = "ready";
    if (o.signal !== undefined) {
      if (o.signal.aborted) this.close();
      else o.signal.addEventListener("abort", () => this.close(), { once: true });
    }
    if (o.handleSignals) {
      this.#unsubscribeSignals = this.#transport.onSignals?.(["SIGTERM", "SIGINT"], () => this.close());
    }
    o.onListen?.(this.address);
    return this;
  }

  get port(): number {
    return this.address.port;
  }

  get url(): string {
    return listenUrl(this.address, this.options.tls !== undefined);
  }

  async setTls(tls: TlsOptions | readonly TlsOptions[]): Promise<void> {
    const settings = resolveTls(tls);
    if (this.options.tls === undefined) throw new Error("setTls: this server was not started with the tls option; it serves plain HTTP");
    await this.ready;
    const listener = this.#listener!;
    if (listener.setTls === undefined) throw new Error(`setTls: the ${this.runtime} transport cannot change certificates on a running listener`);
    await listener.setTls(settings);
  }

  get gated(): boolean {
    return this.#backpressure.gated;
  }

  #accept(socket: Socket): void {
    if (this.#lingering) {
      // Handing the port over: serve it (its response says Connection: close).
      this.#lastAcceptAt = performance.now();
      this.#open(socket);
      return;
    }
    const pool = this.#pool;
    if (this.closing) {
      // Accepted as we stop listening: the client has likely written its
      // request already, so it is answered like any other during shutdown
      // (a reset here is a 502 from a proxy).
      if (pool.hasRoom()) this.#open(socket).shutdown(this.#grace);
      else this.#refuse(socket);
      return;
    }
    if (!pool.hasRoom() || (this.gated && this.options.overloadStrategy === "slow_down")) {
      switch (this.options.overloadStrategy) {
        case "slow_down":
          // Accept, but do not read: the client waits, TCP pushes back.
          if (pool.park(socket)) return;
          break;
        case "drop": {
          const idle = pool.oldestIdle();
          if (idle !== undefined) {
            idle.shutdown();
            break;
          }
          this.#refuse(socket);
          return;
        }
        default:
          this.#refuse(socket);
          return;
      }
      if (!pool.hasRoom() && this.options.overloadStrategy !== "drop") {
        this.#refuse(socket);
        return;
      }
    }
    this.#open(socket);
  }

  #open(socket: Socket): Connection {
    const conn = new Connection(socket, this);
    this.#pool.add(conn);
    this.counters.connectionsTotal++;
    this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    socket.start(conn);
    return conn;
  }

  /** Over the connection limit: a cheap 503 and close. */
  #refuse(socket: Socket): void {
    this.counters.connectionsRefused++;
    socket.start(NO_EVENTS);
    socket.write(refusedConnectionBytes(this.options.retryAfterSeconds));
    socket.end();
  }

  #unparkSome(): void {
    const pool = this.#pool;
    const room = Math.floor(this.options.maxConnections * this.options.lowWaterRatio);
    while (pool.parkedCount > 0 && pool.size < room && !this.gated && !this.closing) {
      this.#open(pool.unpark()!);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const conn of this.#pool) {
      if (conn.sweep(now) === "timeout") this.counters.timedOut++;
    }
    if (this.#orphans.size > 0) this.#sweepOrphans(now);
  }

  /** Frees the slots of departed exchanges whose handler settled, or ran past `handlerTimeoutMs`. */
  #sweepOrphans(now: number): void {
    const limit = this.options.handlerTimeoutMs;
    for (const ex of this.#orphans) {
      if (!ex.admitted) this.#orphans.delete(ex);
      else if (limit > 0 && now - ex.runAt > limit) {
        this.#orphans.delete(ex);
        ex.runAt = -1;
        if (ex.request !== null) abortRequest(ex.request);
        ex.admitted = false;
        this.#backpressure.requestDone();
      }
    }
    this.#stopSweepIfIdle();
  }

  #stopSweepIfIdle(): void {
    if (this.#pool.size === 0 && this.#orphans.size === 0 && this.#sweepTimer !== undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  orphan(ex: Exchange): void {
    this.#orphans.add(ex);
  }

  admit(job: Job): Admission {
    return this.#backpressure.admitRequest(job);
  }

  requestDone(): void {
    this.#backpressure.requestDone();
  }

  forget(job: Job): void {
    this.#backpressure.forget(job);
  }

  handlerFailed(error: unknown): Response | Promise<Response> {
    // Counted in `errors` when this answer is written (connection.ts).
    if (this.options.onError !== undefined) return this.options.onError(error);
    console.error(error);
    return new Response("Internal Server Error", { status: 500 });
  }

  connectionClosed(conn: Connection): void {
    this.#pool.delete(conn);
    if (this.#pool.parkedCount > 0) this.#unparkSome();
    this.#stopSweepIfIdle();
    if (this.closing && this.#pool.size === 0) this.#allClosed?.();
  }

  close(options: CloseOptions = {}): Promise<CloseSummary> {
    return (this.#closePromise ??= this.#close(options.deadlineMs ?? this.options.shutdownTimeoutMs, options.lingerMs ?? 0));
  }

  /** Keeps accepting until no connection arrived for LINGER_QUIET_MS, at most `lingerMs`. */
  async #linger(lingerMs: number): Promise<void> {
    this.#lingering = true;
    const start = performance.now();
    this.#lastAcceptAt = start;
    // Connections we hold are not shut here: with `closing` set, each one's
    // next response says `Connection: close`, so a busy client moves off
    // after an answer instead of racing a FIN on an idle connection with its
    // next request. What is still open after the linger is shut as in any close.
    while (true) {
      const now = performance.now();
      const quietFor = now - this.#lastAcceptAt;
      const left = lingerMs - (now - start);
      if (quietFor >= LINGER_QUIET_MS || left <= 0) break;
      await new Promise((r) => setTimeout(r, Math.min(LINGER_QUIET_MS - quietFor, left)));
    }
    this.#lingering = false;
  }

  async #close(deadlineMs: number, lingerMs: number): Promise<CloseSummary> {
    this.closing = true;
    this.state = "draining";
    this.#answeredBeforeClose = this.counters.answered;
    const grace = (this.#grace = Math.min(this.options.shutdownGraceMs, deadlineMs));
    await this.ready.catch(() => {});
    if (lingerMs > 0 && this.#listener !== null) await this.#linger(Math.min(lingerMs, deadlineMs));
    this.#listener?.close();
    this.#unsubscribeSignals?.();
    this.#pool.dropParked();
    const drained = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
      if (this.#pool.size === 0) resolve();
    });
    // Every request that reaches a connection before it says it closes is
    // answered; a connection with nothing to answer ends once it has been
    // silent through the grace (checked a few times per grace).
    for (const conn of [...this.#pool]) conn.shutdown(grace);
    let graceTimer: ReturnType<typeof setInterval> | undefined;
    if (grace > 0) {
      graceTimer = setInterval(() => {
        const now = performance.now();
        for (const conn of this.#pool) conn.graceCheck(now);
      }, Math.max(5, Math.floor(grace / 5)));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => (timer = setTimeout(() => resolve("deadline"), deadlineMs)));
    const all = (async () => {
      await drained;
      while (this.#waitUntil.size > 0) await Promise.all([...this.#waitUntil]);
    })();
    const outcome = await Promise.race([all.then(() => "done" as const), deadline]);
    clearTimeout(timer);
    clearInterval(graceTimer);
    let cut = 0;
    if (outcome === "deadline") {
      for (const conn of [...this.#pool]) {
        cut += conn.inFlight;
        conn.destroy();
      }
      await Promise.race([drained, new Promise((r) => setTimeout(r, 100))]);
    }
    if (this.#sweepTimer !== undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    this.accessLog?.flush();
    this.state = "closed";
    this.#resolveFinished();
    const ws = this.webSockets;
    return { finished: this.counters.answered - this.#answeredBeforeClose, cut, webSockets: { closed: ws.shutdownClosed, cut: ws.shutdownCut } };
  }

  upgrade(request: Request, options?: UpgradeOptions): boolean {
    return this.webSockets.bunUpgrade(request, options);
  }

  publish(topic: string, data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number {
    return this.webSockets.publish(topic, data, compress);
  }

  subscriberCount(topic: string): number {
    return this.webSockets.subscriberCount(topic);
  }

  stats(): ServerStats {
    const c = this.counters;
    const bp = this.#backpressure.counts();
    let count = 0;
    for (const n of c.latency) count += n;
    return {
      uptimeMs: Date.now() - c.startedAt,
      connections: {
        active: this.#pool.size,
        total: c.connectionsTotal,
        refused: c.connectionsRefused,
        timedOut: c.timedOut,
        byState: this.#pool.byState(),
        parked: this.#pool.parkedCount,
      },
      requests: {
        total: c.requestsTotal,
        inFlight: bp.inFlight,
        queued: bp.queued,
        byStatusClass: { "1xx": c.status[0], "2xx": c.status[1], "3xx": c.status[2], "4xx": c.status[3], "5xx": c.status[4] },
        errors: c.errors,
        refused: bp.refused,
        dropped: bp.dropped,
        shed: bp.shed,
        aborted: c.aborted,
      },
      bytes: { in: c.bytesIn, out: c.bytesOut },
      webSockets: this.webSockets.stats(),
      latencyMs: {
        p50: c.percentile(0.5),
        p90: c.percentile(0.9),
        p99: c.percentile(0.99),
        max: c.latencyMax,
        count,
        buckets: Array.from(c.latency),
      },
    };
  }
}

/**
 * One single-process server on `transport`, listening at once. Use
 * `serveWith` (`src/serve.ts`), which also runs workers.
 * @param transport the runtime binding
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 * @throws {RangeError} when a numeric option is out of range
 */
export function createServer(transport: Transport, options: ServeOptions): Server {
  return new ServerImpl(transport, options);
}
