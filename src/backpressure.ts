/**
 * Overload control. One object decides when a connection or a request may
 * proceed, and when reading stops because the server as a whole is full.
 * Per-connection pressure (a slow reader, a deep pipeline, an unread body)
 * is decided in `connection/connection.ts`; what spans connections is decided here.
 *
 * Strategies, for when `maxInFlightRequests` or `maxConnections` is reached:
 *
 * - `reject`: answer at once, cheaply: a request gets 503 with
 *   `Retry-After`, a connection gets the same and is closed. Use it behind a
 *   load balancer that retries elsewhere.
 * - `drop`: queue new work, and when the queue is full drop the oldest
 *   queued request (503) to admit the newest; a new connection over the
 *   limit closes the longest-idle keep-alive connection that has served a
 *   request (none: the newcomer gets the 503 and is closed). Use it when fresh
 *   requests are worth more than stale ones (clients have timed out on
 *   those anyway).
 * - `slow_down`: queue new work and stop reading from every connection
 *   (and park new connections unread) until load falls below the low-water
 *   mark, so TCP flow control and the kernel backlog push back on clients.
 *   Nothing is refused until the queue itself is full. The default: the
 *   gentlest for clients that can wait.
 * - `shed_load`: queue new work by priority (from `options.priority`), and
 *   when the queue is full refuse the lowest-priority request (503). Use it
 *   to keep health checks and paying users served during a flood.
 *
 * @module
 */

/** Strategy names; see the module doc. */
export type OverloadStrategy = "reject" | "drop" | "slow_down" | "shed_load";

/** The strategies, for validation. */
export const STRATEGIES: readonly OverloadStrategy[] = ["reject", "drop", "slow_down", "shed_load"];

/** A request waiting for admission. */
export interface Job {
  /** Higher runs first under `shed_load`. */
  priority: number;
  /** Admitted: call the handler now. */
  admit(): void;
  /** Refused: answer 503. */
  refuse(): void;
}

/** Limits the manager enforces. */
export interface BackpressureLimits {
  strategy: OverloadStrategy;
  maxInFlightRequests: number;
  maxQueuedRequests: number;
  /** Fraction of the limits under which `slow_down` reads again. */
  lowWaterRatio: number;
}

/** What {@linkcode BackpressureManager.admitRequest} decided. */
export type Admission = "run" | "queued" | "refused";

/** Counts what the manager did, for statistics. */
export interface BackpressureCounts {
  inFlight: number;
  queued: number;
  refused: number;
  dropped: number;
  shed: number;
}

/** Global admission of requests, and the reading gate for `slow_down`. */
export class BackpressureManager {
  #limits: BackpressureLimits;
  #inFlight = 0;
  #queue: Job[] = [];
  #gated = false;
  #onGate: (gated: boolean) => void;
  refused = 0;
  dropped = 0;
  shed = 0;

  /** @param onGate told whenever reading must stop (true) or may resume (false) */
  constructor(limits: BackpressureLimits, onGate: (gated: boolean) => void) {
    this.#limits = limits;
    this.#onGate = onGate;
  }

  /** True while `slow_down` holds every connection's reading. */
  get gated(): boolean {
    return this.#gated;
  }

  /** Requests running in handlers now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for admission. */
  get queued(): number {
    return this.#queue.length;
  }

  /** A request is parsed: run it, queue it, or refuse it. */
  admitRequest(job: Job): Admission {
    const l = this.#limits;
    if (this.#inFlight < l.maxInFlightRequests && this.#queue.length === 0) {
      this.#inFlight++;
      return "run";
    }
    switch (l.strategy) {
      case "reject":
        this.refused++;
        return "refused";
      case "drop":
        this.#queue.push(job);
        if (this.#queue.length > l.maxQueuedRequests) {
          const oldest = this.#queue.shift()!;
          this.dropped++;
          oldest.refuse();
          if (oldest === job) return "refused";
        }
        return "queued";
      case "slow_down":
        if (this.#queue.length >= l.maxQueuedRequests) {
          this.refused++;
          return "refused";
        }
        this.#queue.push(job);
        this.#gate(true);
        return "queued";
      case "shed_load": {
        // Keep the queue sorted by priority, highest first; equal
        // priorities stay in arrival order.
        const q = this.#queue;
        let i = q.length;
        while (i > 0 && q[i - 1].priority < job.priority) i--;
        q.splice(i, 0, job);
        if (q.length > l.maxQueuedRequests) {
          const lowest = q.pop()!;
          this.shed++;
          lowest.refuse();
          if (lowest === job) return "refused";
        }
        return "queued";
      }
    }
  }

  /** A request finished (answered, refused while running, or abandoned). */
  requestDone(): void {
    this.#inFlight--;
    const l = this.#limits;
    while (this.#queue.length > 0 && this.#inFlight < l.maxInFlightRequests) {
      const job = this.#queue.shift()!;
      this.#inFlight++;
      job.admit();
    }
    if (this.#gated && this.#queue.length === 0 && this.#inFlight <= l.maxInFlightRequests * l.lowWaterRatio) {
      this.#gate(false);
    }
  }

  /** A queued request's connection went away: forget the job. */
  forget(job: Job): void {
    const i = this.#queue.indexOf(job);
    if (i !== -1) this.#queue.splice(i, 1);
  }

  #gate(on: boolean): void {
    if (this.#gated === on) return;
    this.#gated = on;
    this.#onGate(on);
  }

  /** Numbers for statistics. */
  counts(): BackpressureCounts {
    return { inFlight: this.#inFlight, queued: this.#queue.length, refused: this.refused, dropped: this.dropped, shed: this.shed };
  }
}
