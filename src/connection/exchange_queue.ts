/**
 * A connection's pipeline: the exchanges received and not yet answered, in
 * request order, as a ring over a fixed-length array.
 *
 * Not a plain array because V8 drops an array's backing store whenever its
 * length reaches 0 (by `shift()`, `pop()`, `splice()` or `length = 0`), so
 * the keep-alive path, where each request empties the pipeline, allocated a
 * new 17-slot store on every `push()` (152 bytes a request on Deno, the
 * largest single allocation of anyserve's own per request: sampling heap
 * profiler, `bench/RESULTS.md`). Here the array's length never changes
 * except to grow, and a slot is cleared (null) when its exchange leaves, so
 * an answered exchange is not kept alive by the queue.
 *
 * @module
 */

import type { Exchange } from "./exchange.ts";

/** Slots a queue starts with (a power of two: indexes wrap by mask). */
const INITIAL_SLOTS = 4;
/** Slots an emptied queue keeps (see `clear()`). */
const MAX_KEPT_SLOTS = 16;

export class ExchangeQueue {
  /** The ring; its length is a power of two and only ever doubles. */
  #slots: (Exchange | null)[];
  /** Index in `#slots` of the oldest exchange. */
  #front = 0;
  /** Exchanges held. */
  length = 0;

  /** @param slots the ring's first size: a power of two */
  constructor(slots = INITIAL_SLOTS) {
    this.#slots = new Array<Exchange | null>(slots).fill(null);
  }

  /** The `i`th oldest exchange (`0 <= i < length`). */
  at(i: number): Exchange {
    return this.#slots[(this.#front + i) & (this.#slots.length - 1)]!;
  }

  /** The oldest exchange, or undefined when empty. */
  first(): Exchange | undefined {
    return this.length === 0 ? undefined : this.#slots[this.#front]!;
  }

  /** The newest exchange, or undefined when empty. */
  last(): Exchange | undefined {
    return this.length === 0 ? undefined : this.at(this.length - 1);
  }

  /** Appends `ex` (after the newest). */
  push(ex: Exchange): void {
    const n = this.length;
    // Written first: on a frozen queue (a connection's shared empty one) it
    // throws before anything else changes.
    this.length = n + 1;
    let slots = this.#slots;
    if (n === slots.length) {
      const grown = new Array<Exchange | null>(n * 2).fill(null);
      for (let i = 0; i < n; i++) grown[i] = slots[(this.#front + i) & (n - 1)];
      this.#slots = slots = grown;
      this.#front = 0;
    }
    slots[(this.#front + n) & (slots.length - 1)] = ex;
  }

  /** Removes the `count` oldest exchanges (at most `length`). */
  drop(count: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let f = this.#front;
    for (let k = 0; k < count; k++) {
      slots[f] = null;
      f = (f + 1) & mask;
    }
    this.#front = f;
    this.length -= count;
  }

  /**
   * Removes every exchange. A ring grown past {@linkcode MAX_KEPT_SLOTS} (a
   * deep pipeline) starts small again: emptied queues are pooled, and a
   * pool of large rings would hold memory no connection uses.
   */
  clear(): void {
    if (this.#slots.length > MAX_KEPT_SLOTS) {
      this.#slots = new Array<Exchange | null>(INITIAL_SLOTS).fill(null);
      this.length = 0;
    } else this.drop(this.length);
    this.#front = 0;
  }

  /** The exchanges, oldest first, as a new array (for loops whose body may change the queue). */
  toArray(): Exchange[] {
    const out: Exchange[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.at(i));
    return out;
  }
}
