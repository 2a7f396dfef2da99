/**
 * The connection pool: a bounded set of slots. It holds every open
 * connection (the sweep walks it once a second: one timer for all of them),
 * the ones parked unread by `slow_down`, and the counts the limits need.
 *
 * @module
 */

import type { Connection, ConnectionState } from "./connection/connection.ts";
import type { Socket } from "./socket.ts";

/** Open connections plus sockets parked until there is room. */
export class ConnectionPool {
  #open = new Set<Connection>();
  #parked: Socket[] = [];
  readonly maxConnections: number;
  readonly maxParked: number;

  constructor(maxConnections: number) {
    this.maxConnections = maxConnections;
    // Parking is a short queue in front of the limit, not a second pool.
    this.maxParked = Math.max(16, maxConnections >> 2);
  }

  /** Open connections. */
  get size(): number {
    return this.#open.size;
  }

  /** Sockets accepted but not yet read (`slow_down`). */
  get parkedCount(): number {
    return this.#parked.length;
  }

  /** True when another connection fits. */
  hasRoom(): boolean {
    return this.#open.size < this.maxConnections;
  }

  add(conn: Connection): void {
    this.#open.add(conn);
  }

  delete(conn: Connection): void {
    this.#open.delete(conn);
  }

  /** Parks a socket; false when the parking queue is full too. */
  park(socket: Socket): boolean {
    if (this.#parked.length >= this.maxParked) return false;
    this.#parked.push(socket);
    return true;
  }

  /** The longest-parked socket, if any. */
  unpark(): Socket | undefined {
    return this.#parked.shift();
  }

  /**
   * The idle connection that has waited longest, for `drop`: only one that
   * has served a request. A connection accepted a moment ago is idle too,
   * but its first request may be on its way: evicting it would answer that
   * request with a bare close.
   */
  oldestIdle(): Connection | undefined {
    let oldest: Connection | undefined;
    for (const c of this.#open) {
      if (c.state === "idle" && c.requestCount > 0 && (oldest === undefined || c.lastActive < oldest.lastActive)) oldest = c;
    }
    return oldest;
  }

  /** Counts open connections by state. */
  byState(): Record<ConnectionState, number> {
    const r: Record<ConnectionState, number> = { idle: 0, reading: 0, processing: 0, writing: 0, closing: 0 };
    for (const c of this.#open) r[c.state]++;
    return r;
  }

  [Symbol.iterator](): IterableIterator<Connection> {
    return this.#open.values();
  }

  /** Destroys parked sockets (shutdown). */
  dropParked(): void {
    for (const s of this.#parked.splice(0)) s.destroy();
  }
}
