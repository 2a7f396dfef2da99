/**
 * The server: binds a transport, accepts connections, keeps statistics and
 * runs the shutdown sequence. Runtime-free: the transport comes from an
 * adapter.
 *
 * @module
 */

import type { Listener, Socket, Transport } from "./socket.ts";
import { type ExecutionContext, resolveOptions, type ResolvedOptions, type ServeOptions } from "./options.ts";
import { Connection, type ConnectionHost } from "./connection.ts";

/** What {@linkcode Server.close} reports. */
export interface CloseSummary {
  /** Requests that were in flight when shutdown began and got their response. */
  finished: number;
  /** Connections cut at the deadline with work still in flight. */
  cut: number;
}

/** Options for {@linkcode Server.close}. */
export interface CloseOptions {
  /** Cut what is still running after this long. @default options.shutdownTimeoutMs */
  deadlineMs?: number;
}

/** Counters; see {@linkcode Server.stats}. */
export interface ServerStats {
  connections: { active: number; total: number; timedOut: number };
  requests: { total: number; inFlight: number; errors: number; byStatus: Record<string, number> };
  uptimeMs: number;
}

/** A running server. */
export interface Server {
  /** Resolves once the server listens (rejects if it cannot bind). */
  readonly ready: Promise<Server>;
  /** Resolves once the server is closed and every connection is gone. */
  readonly finished: Promise<void>;
  /** The bound address; port is 0 until `ready` resolves. */
  readonly address: { hostname: string; port: number };
  /** The bound port (0 until `ready`). */
  readonly port: number;
  /** `http://hostname:port/`. */
  readonly url: string;
  /**
   * Graceful shutdown: stop accepting at once, close idle keep-alive
   * connections, let in-flight requests finish (their responses carry
   * `Connection: close`), wait for `waitUntil` promises, and cut whatever
   * is left at the deadline.
   */
  close(options?: CloseOptions): Promise<CloseSummary>;
  /** Counters and gauges. */
  stats(): ServerStats;
}

const SWEEP_INTERVAL_MS = 1000;

class ServerImpl implements Server, ConnectionHost {
  readonly options: ResolvedOptions;
  readonly runtime: string;
  readonly ctx: ExecutionContext;
  readonly staticBody: ConnectionHost["staticBody"];
  readonly ready: Promise<Server>;
  readonly finished: Promise<void>;
  closing = false;
  address = { hostname: "", port: 0 };
  #transport: Transport;
  #listener: Listener | null = null;
  #connections = new Set<Connection>();
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #resolveFinished!: () => void;
  #closePromise: Promise<CloseSummary> | null = null;
  #waitUntil = new Set<Promise<unknown>>();
  #started = Date.now();
  #connectionsTotal = 0;
  #timedOut = 0;
  #requestsTotal = 0;
  #inFlight = 0;
  #errors = 0;
  #byStatus: Record<string, number> = { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
  #finishedDuringClose = 0;

  constructor(transport: Transport, options: ServeOptions) {
    this.options = resolveOptions(options);
    this.runtime = transport.runtime;
    this.#transport = transport;
    this.staticBody = transport.staticBody?.bind(transport);
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
    // Unhandled when the caller only awaits `finished`: keep the rejection visible once.
    this.ready.catch(() => {});
  }

  async #listen(): Promise<Server> {
    const o = this.options;
    this.#listener = await this.#transport.listen(
      { hostname: o.hostname, port: o.port, reusePort: o.reusePort },
      (socket) => this.#accept(socket),
    );
    this.address = this.#listener.address;
    if (o.signal !== undefined) {
      if (o.signal.aborted) this.close();
      else o.signal.addEventListener("abort", () => this.close(), { once: true });
    }
    o.onListen?.(this.address);
    return this;
  }

  get port(): number {
    return this.address.port;
  }

  get url(): string {
    const h = this.address.hostname;
    const host = h.includes(":") ? `[${h}]` : h === "0.0.0.0" ? "localhost" : h;
    return `http://${host}:${this.address.port}/`;
  }

  #accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, this);
    this.#connections.add(conn);
    this.#connectionsTotal++;
    if (this.#sweepTimer === undefined) this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    socket.start(conn);
  }

  #sweep(): void {
    const now = Date.now();
    for (const conn of this.#connections) {
      if (conn.sweep(now) === "timeout") this.#timedOut++;
    }
  }

  requestStarted(): void {
    this.#requestsTotal++;
    this.#inFlight++;
  }

  requestFinished(status: number): void {
    this.#inFlight--;
    if (this.closing) this.#finishedDuringClose++;
    if (status >= 100 && status < 600) this.#byStatus[`${Math.floor(status / 100)}xx`]++;
  }

  handlerFailed(error: unknown): Response | Promise<Response> {
    this.#errors++;
    if (this.options.onError !== undefined) return this.options.onError(error);
    console.error(error);
    return new Response("Internal Server Error", { status: 500 });
  }

  connectionClosed(conn: Connection): void {
    this.#connections.delete(conn);
    if (this.#connections.size === 0) {
      if (this.#sweepTimer !== undefined) {
        clearInterval(this.#sweepTimer);
        this.#sweepTimer = undefined;
      }
    }
    if (this.closing && this.#connections.size === 0) this.#allClosed?.();
  }

  #allClosed: (() => void) | null = null;

  close(options: CloseOptions = {}): Promise<CloseSummary> {
    return (this.#closePromise ??= this.#close(options.deadlineMs ?? this.options.shutdownTimeoutMs));
  }

  async #close(deadlineMs: number): Promise<CloseSummary> {
    this.closing = true;
    await this.ready.catch(() => {});
    this.#listener?.close();
    const drained = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
      if (this.#connections.size === 0) resolve();
    });
    for (const conn of this.#connections) conn.shutdown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => (timer = setTimeout(() => resolve("deadline"), deadlineMs)));
    const all = (async () => {
      await drained;
      while (this.#waitUntil.size > 0) await Promise.all([...this.#waitUntil]);
    })();
    const outcome = await Promise.race([all.then(() => "done" as const), deadline]);
    clearTimeout(timer);
    let cut = 0;
    if (outcome === "deadline") {
      for (const conn of this.#connections) {
        if (conn.inFlight > 0) cut++;
        conn.destroy();
      }
      await Promise.race([drained, new Promise((r) => setTimeout(r, 100))]);
    }
    if (this.#sweepTimer !== undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    this.#resolveFinished();
    return { finished: this.#finishedDuringClose, cut };
  }

  stats(): ServerStats {
    return {
      connections: { active: this.#connections.size, total: this.#connectionsTotal, timedOut: this.#timedOut },
      requests: { total: this.#requestsTotal, inFlight: this.#inFlight, errors: this.#errors, byStatus: { ...this.#byStatus } },
      uptimeMs: Date.now() - this.#started,
    };
  }
}

/**
 * Starts a server on `transport`. Adapters wrap this as `serve(options)`.
 * @throws {TypeError} when `options.fetch` is not a function
 * @throws {RangeError} when a numeric option is out of range
 */
export function serveWith(transport: Transport, options: ServeOptions): Server {
  return new ServerImpl(transport, options);
}
