/**
 * Multi-process serving: `serve({ workers: N })` runs N worker processes that
 * all accept on one port with SO_REUSEPORT, under a supervisor in the
 * process that called `serve()` (the primary).
 *
 * This module is the runtime-free supervisor: the worker table, the restart
 * policy, and the glue a worker runs. The message format and the process
 * seam ({@linkcode ProcessControl}: spawning processes, carrying messages,
 * exiting; `transport.processes`, one per adapter) live in `src/process.ts`;
 * summing the workers' stats is `sumStats` in `src/stats.ts`.
 *
 * How it runs: the primary spawns each worker by re-running the entry script
 * with the same runtime flags and {@linkcode WORKER_ID_ENV} set. In a worker,
 * the same `serve({ workers })` call sees that variable and listens directly
 * (with `reusePort`, on the port the primary gave in {@linkcode WORKER_PORT_ENV}),
 * reports `listening`, then its stats every second, and closes gracefully
 * then exits on SIGTERM/SIGINT, on a `close` message, or when the primary
 * goes away.
 *
 * @module
 */

import { listenUrl } from "./_util/url.ts";
import type { Transport } from "./socket.ts";
import type { CloseOptions, CloseSummary, Server } from "./server.ts";
import { resolveOptions, type ServeOptions } from "./options.ts";
import { resolveTls, type TlsOptions, type TlsSettings } from "./tls.ts";
import { addStats, countersOnly, emptyStats, type ServerStats, sumStats } from "./stats.ts";
import {
  type ClusterTransport,
  decodeMessage,
  encodeMessage,
  type ProcessControl,
  WORKER_ID_ENV,
  WORKER_PORT_ENV,
  type WorkerHandle,
} from "./process.ts";

/** How often a worker reports its stats. */
export const STATS_INTERVAL_MS = 1000;
/** How long a reload waits for a new worker to listen before it gives up and keeps the old ones. */
export const RELOAD_START_TIMEOUT_MS = 30_000;
/**
 * How long an old worker keeps its listener open in a reload's drain
 * (`CloseOptions.lingerMs`): at most this, less once no connection arrived
 * for `LINGER_QUIET_MS`.
 */
export const RELOAD_LINGER_MS = 2000;


/** Restart policy settings; see {@linkcode RestartPolicy}. */
export interface RestartPolicyOptions {
  /** First restart delay. @default 100 */
  baseDelayMs?: number;
  /** Largest restart delay. @default 10000 */
  maxDelayMs?: number;
  /** Restarts allowed per worker slot within `windowMs`; one more and the slot gives up. @default 5 */
  maxRestarts?: number;
  /** The window `maxRestarts` counts in. @default 60000 */
  windowMs?: number;
}

/**
 * When to restart a crashed worker. Each restart within the window doubles
 * the delay (`baseDelayMs`, 2×, 4×, ... up to `maxDelayMs`); restarts older
 * than `windowMs` are forgotten, so a worker that crashes now and then is
 * always restarted quickly, while one that dies at start is retried
 * `maxRestarts` times with growing delays, and then left down (the caller
 * logs it) instead of spinning.
 */
export class RestartPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRestarts: number;
  readonly windowMs: number;
  #restarts: number[] = [];

  constructor(options: RestartPolicyOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.maxRestarts = options.maxRestarts ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
  }

  /**
   * A worker exited unexpectedly at `now` (ms). Returns the delay before
   * restarting it, or null to give up.
   */
  onExit(now: number): number | null {
    this.#restarts = this.#restarts.filter((t) => now - t < this.windowMs);
    if (this.#restarts.length >= this.maxRestarts) return null;
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** this.#restarts.length);
    this.#restarts.push(now);
    return delay;
  }

  /** Restarts counted in the current window (as of the last `onExit`). */
  get recentRestarts(): number {
    return this.#restarts.length;
  }
}

/** One worker slot as `server.workers` reports it. */
export interface WorkerInfo {
  /** Slot id, 1..N; a restarted worker keeps its slot's id. */
  readonly id: number;
  /** The current process id (0 while none runs). */
  readonly pid: number;
  /** `starting`, `listening`, `restarting` (waiting out the backoff), `exited`, or `failed` (gave up). */
  readonly state: "starting" | "listening" | "restarting" | "exited" | "failed";
  /** Times this slot was restarted. */
  readonly restarts: number;
}

/** What `serve({ workers })` returns in the primary: a {@linkcode Server} plus the worker table. */
export interface ClusterServer extends Server {
  /** The worker slots, a snapshot. */
  readonly workers: readonly WorkerInfo[];
  /**
   * Zero-downtime reload (also on SIGHUP): start a new worker per slot with
   * the current code, wait until each listens, then drain and stop the old
   * ones one by one (each keeps accepting until clients stop arriving at
   * its listener, so its accept queue is empty when it closes). A new worker
   * that fails to start aborts the reload: the old ones keep serving and the
   * promise rejects with why. Calls during a reload share its promise.
   */
  reload(): Promise<void>;
}

interface Slot {
  id: number;
  handle: WorkerHandle | null;
  state: WorkerInfo["state"];
  restarts: number;
  policy: RestartPolicy;
  last: ServerStats | null;
  selfClosing: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  exited: Promise<void>;
  markExited: () => void;
  /** Being stopped by a reload: its exit is not a crash. */
  retiring: boolean;
  /** Started by a reload and not listening yet: an exit fails the reload instead of restarting. */
  probation: ((error: Error | null) => void) | null;
}

/** Extra settings for the supervisor, for tests. */
export interface SupervisorOptions {
  /** Restart policy per slot. */
  restart?: RestartPolicyOptions;
  /** Where log lines go. @default console.error */
  log?: (line: string) => void;
  /** After the close deadline, how long to wait before SIGKILL. @default 2000 */
  killGraceMs?: number;
}

class Supervisor implements ClusterServer {
  readonly ready: Promise<Server>;
  readonly finished: Promise<void>;
  address = { hostname: "", port: 0 };
  #resolved: ReturnType<typeof resolveOptions>;
  #transport: ClusterTransport;
  #processes: ProcessControl;
  #settings: SupervisorOptions;
  #log: (line: string) => void;
  #slots: Slot[] = [];
  #retired: ServerStats = emptyStats();
  #startedAt = Date.now();
  #closing = false;
  #closePromise: Promise<CloseSummary> | null = null;
  #summary: CloseSummary = { finished: 0, cut: 0, webSockets: { closed: 0, cut: 0 } };
  #resolveReady!: (s: Server) => void;
  #rejectReady!: (e: Error) => void;
  #isReady = false;
  #closed = false;
  #reloading: Promise<void> | null = null;
  /** Slots outside the table: a reload's new workers while they start, its old ones while they drain. */
  #extra = new Set<Slot>();
  #resolveFinished!: () => void;
  #unsubscribeSignals: (() => void) | undefined;

  constructor(transport: ClusterTransport, processes: ProcessControl, options: ServeOptions, settings: SupervisorOptions) {
    this.#transport = transport;
    this.#processes = processes;
    this.#resolved = resolveOptions(options);
    this.#settings = settings;
    this.#log = settings.log ?? ((line) => console.error(line));
    this.ready = new Promise<Server>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    for (let id = 1; id <= this.#resolved.workers; id++) this.#slots.push(this.#newSlot(id));
    // A supervisor always forwards SIGTERM/SIGINT: left to the default, the
    // primary would die at once and leave its workers orphaned. SIGHUP
    // (whose default also kills) reloads.
    const offStop = transport.onSignals?.(["SIGTERM", "SIGINT"], () => this.close());
    const offReload = transport.onSignals?.(["SIGHUP"], () => this.reload().catch(() => {}));
    this.#unsubscribeSignals = () => {
      offStop?.();
      offReload?.();
    };
    const signal = this.#resolved.signal;
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => this.close());
      else signal.addEventListener("abort", () => this.close(), { once: true });
    }
    if (this.#resolved.port === 0) {
      // Port 0: the first worker picks one, the others join it.
      this.#spawn(this.#slots[0]);
    } else {
      for (const slot of this.#slots) this.#spawn(slot);
    }
  }

  #newSlot(id: number): Slot {
    let markExited!: () => void;
    const exited = new Promise<void>((r) => (markExited = r));
    markExited(); // nothing runs yet
    return {
      id,
      handle: null,
      state: "starting",
      restarts: 0,
      policy: new RestartPolicy(this.#settings.restart),
      last: null,
      selfClosing: false,
      timer: undefined,
      exited,
      markExited,
      retiring: false,
      probation: null,
    };
  }

  get state(): Server["state"] {
    if (this.#closed) return "closed";
    if (this.#closing) return "draining";
    return this.#isReady ? "ready" : "starting";
  }

  reload(): Promise<void> {
    if (this.#closing) return Promise.reject(new Error("anyserve: cannot reload: the server is closing"));
    return (this.#reloading ??= this.#reload().finally(() => (this.#reloading = null)));
  }

  async #reload(): Promise<void> {
    await this.ready;
    const old = this.#slots;
    this.#log(`anyserve: reloading: starting ${old.length} new worker${old.length === 1 ? "" : "s"}`);
    const fresh = old.map((s) => this.#newSlot(s.id));
    for (const s of fresh) this.#extra.add(s);
    const started = fresh.map(
      (slot) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`worker ${slot.id} did not listen within ${RELOAD_START_TIMEOUT_MS} ms`)), RELOAD_START_TIMEOUT_MS);
          slot.probation = (error) => {
            clearTimeout(timer);
            slot.probation = null;
            if (error === null) resolve();
            else reject(error);
          };
        }),
    );
    for (const s of fresh) this.#spawn(s);
    try {
      await Promise.all(started);
      if (this.#closing) throw new Error("the server began closing");
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.#log(`anyserve: reload aborted, the old workers keep serving: ${why}`);
      for (const s of fresh) {
        // Settles its start promise and clears its start timer (which would keep the process alive).
        s.probation?.(new Error("reload aborted"));
        this.#stopSlot(s, 0);
      }
      await Promise.all(fresh.map((s) => s.exited));
      for (const s of fresh) this.#extra.delete(s);
      throw new Error(`anyserve: reload aborted: ${why}`);
    }
    // The new workers take over; the old ones drain one at a time.
    for (const s of fresh) this.#extra.delete(s);
    for (const s of old) this.#extra.add(s);
    this.#slots = fresh;
    for (const s of old) {
      if (this.#closing) break;
      await this.#stopSlot(s, RELOAD_LINGER_MS);
      this.#extra.delete(s);
    }
    this.#log("anyserve: reload done");
  }

  /** Stops a slot that is not to be restarted: close message, SIGTERM, SIGKILL past the deadline. */
  async #stopSlot(slot: Slot, lingerMs: number): Promise<void> {
    slot.retiring = true;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    const handle = slot.handle;
    if (handle === null) return;
    const deadlineMs = this.#resolved.shutdownTimeoutMs;
    handle.send(encodeMessage({ t: "close", deadlineMs, lingerMs }));
    if (lingerMs === 0) handle.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), lingerMs + deadlineMs + (this.#settings.killGraceMs ?? 2000))));
    if ((await Promise.race([slot.exited, late])) === "late" && slot.handle !== null) {
      this.#log(`anyserve: worker ${slot.id} (pid ${handle.pid}) did not exit after close; killing it`);
      handle.kill("SIGKILL");
      await slot.exited;
    }
    clearTimeout(timer);
  }

  get port(): number {
    return this.address.port;
  }

  get url(): string {
    return listenUrl(this.address, this.#resolved.tls !== undefined);
  }

  /**
   * Sends the new certificates to every running worker (each swaps them as
   * a single server does); a worker started later reads the `tls` option of
   * the entry script again, so change the files it reads too.
   */
  setTls(tls: TlsOptions | readonly TlsOptions[]): Promise<void> {
    try {
      const settings = resolveTls(tls);
      if (this.#resolved.tls === undefined) throw new Error("setTls: this server was not started with the tls option; it serves plain HTTP");
      const line = encodeMessage({ t: "tls", tls: settings });
      for (const slot of this.#slots) slot.handle?.send(line);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  get workers(): readonly WorkerInfo[] {
    return this.#slots.map((s) => ({ id: s.id, pid: s.handle?.pid ?? 0, state: s.state, restarts: s.restarts }));
  }

  #spawn(slot: Slot): void {
    if (this.#closing) return;
    slot.timer = undefined;
    slot.state = "starting";
    slot.selfClosing = false;
    slot.last = null;
    const port = this.address.port !== 0 ? this.address.port : this.#resolved.port;
    const env = { [WORKER_ID_ENV]: String(slot.id), [WORKER_PORT_ENV]: String(port) };
    let markExited!: () => void;
    slot.exited = new Promise<void>((r) => (markExited = r));
    slot.markExited = markExited;
    let handle: WorkerHandle;
    const startedAt = Date.now();
    try {
      handle = this.#processes.spawnWorker(env, {
        message: (line) => this.#onMessage(slot, handle, line),
        exit: (code, signal) => this.#onExit(slot, handle, startedAt, code, signal),
      });
    } catch (e) {
      markExited();
      this.#log(`anyserve: cannot spawn worker ${slot.id}: ${e instanceof Error ? e.message : String(e)}`);
      this.#giveUp(slot, e instanceof Error ? e : new Error(String(e)));
      return;
    }
    slot.handle = handle;
  }

  #onMessage(slot: Slot, handle: WorkerHandle, line: string): void {
    if (slot.handle !== handle) return;
    const m = decodeMessage(line);
    if (m === null) return;
    switch (m.t) {
      case "listening": {
        slot.state = "listening";
        slot.probation?.(null);
        if (this.address.port === 0) {
          this.address = { hostname: m.hostname, port: m.port };
          if (!this.#closing) for (const s of this.#slots) if (s.handle === null && s.timer === undefined && s.state === "starting") this.#spawn(s);
        }
        if (!this.#isReady && this.#slots.every((s) => s.state === "listening")) {
          this.#isReady = true;
          this.#resolved.onListen?.(this.address);
          this.#resolveReady(this);
        }
        break;
      }
      case "stats":
        slot.last = m.stats;
        break;
      case "closing":
        slot.selfClosing = true;
        break;
      case "closed":
        this.#summary.finished += m.finished;
        this.#summary.cut += m.cut;
        if (m.webSockets !== undefined) {
          this.#summary.webSockets.closed += m.webSockets.closed;
          this.#summary.webSockets.cut += m.webSockets.cut;
        }
        break;
    }
  }

  #onExit(slot: Slot, handle: WorkerHandle, startedAt: number, code: number | null, signal: string | null): void {
    if (slot.handle !== handle) return;
    slot.handle = null;
    if (slot.last !== null) addStats(this.#retired, countersOnly(slot.last));
    slot.last = null;
    slot.markExited();
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (slot.retiring) {
      slot.state = "exited";
      return;
    }
    if (slot.probation !== null) {
      slot.state = "failed";
      slot.probation(new Error(`new worker ${slot.id} (pid ${handle.pid}) exited with ${how} before listening`));
      return;
    }
    if (this.#closing) {
      slot.state = "exited";
      return;
    }
    if (slot.selfClosing && code === 0) {
      // The worker closed by its own decision (its server was closed): not a crash.
      slot.state = "exited";
      this.#log(`anyserve: worker ${slot.id} (pid ${handle.pid}) closed and exited`);
      this.#finishIfAllDown();
      return;
    }
    const delay = slot.policy.onExit(Date.now());
    if (delay === null) {
      this.#log(
        `anyserve: worker ${slot.id} (pid ${handle.pid}) exited with ${how} after ${Date.now() - startedAt} ms; ` +
          `${slot.policy.maxRestarts} restarts within ${slot.policy.windowMs} ms already, not restarting it`,
      );
      this.#giveUp(slot, new Error(`anyserve: worker ${slot.id} keeps exiting (last: ${how}); gave up restarting it`));
      return;
    }
    slot.state = "restarting";
    slot.restarts++;
    this.#log(`anyserve: worker ${slot.id} (pid ${handle.pid}) exited with ${how}; restarting in ${delay} ms`);
    slot.timer = setTimeout(() => this.#spawn(slot), delay);
  }

  #giveUp(slot: Slot, error: Error): void {
    slot.state = "failed";
    if (!this.#isReady) {
      this.#rejectReady(error);
      this.close();
      return;
    }
    this.#finishIfAllDown();
  }

  #finishIfAllDown(): void {
    if (this.#slots.every((s) => s.handle === null && s.timer === undefined)) {
      this.#log("anyserve: no worker left running; the supervisor stops");
      this.close();
    }
  }

  close(options: CloseOptions = {}): Promise<CloseSummary> {
    return (this.#closePromise ??= this.#close(options.deadlineMs ?? this.#resolved.shutdownTimeoutMs));
  }

  async #close(deadlineMs: number): Promise<CloseSummary> {
    this.#closing = true;
    this.#unsubscribeSignals?.();
    if (!this.#isReady) this.#rejectReady(new Error("anyserve: closed before every worker was listening"));
    const line = encodeMessage({ t: "close", deadlineMs });
    const every = [...this.#slots, ...this.#extra];
    for (const slot of every) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.timer = undefined;
      if (slot.handle !== null) {
        slot.handle.send(line);
        // A worker busy starting may not read its channel yet: the signal reaches it anyway.
        slot.handle.kill("SIGTERM");
      }
    }
    const all = Promise.all(every.map((s) => s.exited));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), deadlineMs + (this.#settings.killGraceMs ?? 2000))));
    if ((await Promise.race([all, late])) === "late") {
      for (const slot of every) {
        if (slot.handle !== null) {
          this.#log(`anyserve: worker ${slot.id} (pid ${slot.handle.pid}) did not exit after close; killing it`);
          slot.handle.kill("SIGKILL");
        }
      }
      await all;
    }
    clearTimeout(timer);
    this.#closed = true;
    this.#resolveFinished();
    return { ...this.#summary, webSockets: { ...this.#summary.webSockets } };
  }

  /** WebSockets live in the workers: the supervisor holds no request to upgrade. */
  upgrade(): boolean {
    return false;
  }

  /** Topics live in each worker; the supervisor reaches none of them. */
  publish(): number {
    return 0;
  }

  subscriberCount(): number {
    return 0;
  }

  stats(): ServerStats {
    const list: ServerStats[] = [this.#retired];
    for (const s of this.#slots) if (s.last !== null) list.push(s.last);
    const sum = sumStats(list);
    sum.uptimeMs = Date.now() - this.#startedAt;
    return sum;
  }

  /** For tests and logs: the transport's runtime. */
  get runtime(): string {
    return this.#transport.runtime;
  }
}

/** Settings back into the `tls` option's shape, for a worker's `setTls`. */
function tlsOptionsOf(s: TlsSettings): TlsOptions[] {
  return s.certificates.map((c, i) => ({
    cert: c.cert,
    key: c.key,
    ...(c.serverName !== undefined ? { serverName: c.serverName } : {}),
    ...(c.passphrase !== undefined ? { passphrase: c.passphrase } : {}),
    ...(i === 0 ? { ca: [...s.ca], requestCert: s.requestCert, rejectUnauthorized: s.rejectUnauthorized } : {}),
  }));
}

/** Installs the worker side around a server that listens directly. */
function runWorker(processes: ProcessControl, transport: Transport, server: Server, deadlineMs: number): void {
  let closing = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const report = () => channel.send(encodeMessage({ t: "stats", stats: server.stats() }));
  const shutdown = async (deadline: number, lingerMs = 0) => {
    if (closing) return;
    closing = true;
    if (timer !== undefined) clearInterval(timer);
    await channel.send(encodeMessage({ t: "closing" })).catch(() => {});
    const summary = await server.close({ deadlineMs: deadline, lingerMs });
    await report().catch(() => {});
    await channel.send(encodeMessage({ t: "closed", ...summary })).catch(() => {});
    processes.exit(0);
  };
  const channel = processes.connectPrimary({
    message(line) {
      const m = decodeMessage(line);
      if (m !== null && m.t === "close") shutdown(m.deadlineMs, m.lingerMs ?? 0);
      else if (m !== null && m.t === "tls") {
        server.setTls(tlsOptionsOf(m.tls)).catch((e: unknown) => {
          console.error(`anyserve: worker cannot change certificates: ${e instanceof Error ? e.message : String(e)}`);
        });
      }
    },
    disconnect() {
      // The primary is gone: nobody restarts or stops us; close and leave.
      shutdown(deadlineMs);
    },
  });
  transport.onSignals?.(["SIGTERM", "SIGINT"], () => shutdown(deadlineMs));
  // A reload is the supervisor's business; SIGHUP to the whole process group must not kill workers.
  transport.onSignals?.(["SIGHUP"], () => {});
  server.ready.then(
    (s) => {
      channel.send(encodeMessage({ t: "listening", hostname: s.address.hostname, port: s.address.port })).catch(() => {});
      timer = setInterval(() => report().catch(() => {}), STATS_INTERVAL_MS);
      // If the user closes this worker's server, the worker is done: say so and leave.
      server.finished.then(() => shutdown(deadlineMs));
    },
    (error: unknown) => {
      console.error(`anyserve: worker cannot listen: ${error instanceof Error ? error.message : String(error)}`);
      processes.exit(1);
    },
  );
}

/**
 * `serve({ workers })`: in the primary, starts the supervisor; in a worker
 * (the environment has {@linkcode WORKER_ID_ENV}), serves directly with
 * `reusePort` on the primary's port and reports to it.
 * @param transport the runtime binding; needs `processes`
 * @param options the serve options, `workers` set
 * @param serveOne starts a single-process server (what `serveWith` does without workers)
 * @param settings supervisor settings (tests)
 * @throws {RangeError} when `workers` is not a positive integer or "auto"
 * @throws {Error} when the transport cannot spawn processes
 */
export function serveWorkers(
  transport: ClusterTransport,
  options: ServeOptions,
  serveOne: (options: ServeOptions) => Server,
  settings: SupervisorOptions = {},
): Server {
  const resolved = resolveOptions(options);
  const processes = transport.processes;
  if (processes === undefined) {
    throw new Error(`Cannot run workers on the "${transport.runtime}" transport: it cannot spawn processes`);
  }
  const id = processes.env(WORKER_ID_ENV);
  if (id !== undefined && id !== "") {
    const port = Number(processes.env(WORKER_PORT_ENV) ?? resolved.port);
    const server = serveOne({
      ...options,
      workers: undefined,
      port: Number.isInteger(port) ? port : resolved.port,
      reusePort: true,
      // The worker glue owns signals and the listen report.
      handleSignals: false,
      onListen: undefined,
    });
    runWorker(processes, transport, server, resolved.shutdownTimeoutMs);
    return server;
  }
  processes.assertCanSpawn();
  return new Supervisor(transport, processes, options, settings);
}
