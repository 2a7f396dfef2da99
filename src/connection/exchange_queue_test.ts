import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ExchangeQueue } from "./exchange_queue.ts";
import type { Exchange } from "./exchange.ts";

const ex = (id: number) => ({ id }) as unknown as Exchange;
const ids = (q: ExchangeQueue) => q.toArray().map((e) => (e as unknown as { id: number }).id);

/** A small deterministic generator (xorshift32), so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("ExchangeQueue", () => {
  it("keeps request order across the ring's wrap and its growth", () => {
    const q = new ExchangeQueue(4);
    for (let i = 0; i < 3; i++) q.push(ex(i));
    q.drop(2); // front moves to slot 2
    for (let i = 3; i < 6; i++) q.push(ex(i)); // wraps: slots 3, 0, 1
    assert.deepEqual(ids(q), [2, 3, 4, 5]);
    q.push(ex(6)); // full while wrapped: grows, oldest first
    assert.deepEqual(ids(q), [2, 3, 4, 5, 6]);
    assert.equal(q.length, 5);
    assert.equal((q.first() as unknown as { id: number }).id, 2);
    assert.equal((q.last() as unknown as { id: number }).id, 6);
    assert.equal((q.at(3) as unknown as { id: number }).id, 5);
  });

  it("is empty after clear(), and first() and last() say so", () => {
    const q = new ExchangeQueue(2);
    q.push(ex(1));
    q.push(ex(2));
    q.push(ex(3));
    q.clear();
    assert.equal(q.length, 0);
    assert.equal(q.first(), undefined);
    assert.equal(q.last(), undefined);
    q.push(ex(4));
    assert.deepEqual(ids(q), [4]);
  });

  it("works on after clear() emptied a ring grown past what an emptied queue keeps", () => {
    const q = new ExchangeQueue(4);
    for (let i = 0; i < 40; i++) q.push(ex(i));
    q.drop(3);
    q.clear();
    assert.equal(q.length, 0);
    for (let i = 0; i < 9; i++) q.push(ex(100 + i));
    assert.deepEqual(ids(q), [100, 101, 102, 103, 104, 105, 106, 107, 108]);
  });

  it("matches an array under random pushes and drops (property)", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rnd = random(seed);
      const q = new ExchangeQueue(1 << Math.floor(rnd() * 3));
      const model: number[] = [];
      let next = 0;
      for (let step = 0; step < 400; step++) {
        if (rnd() < 0.55) {
          q.push(ex(next));
          model.push(next++);
        } else {
          const n = Math.floor(rnd() * (model.length + 1));
          q.drop(n);
          model.splice(0, n);
        }
        assert.equal(q.length, model.length, `seed ${seed} step ${step}`);
        assert.deepEqual(ids(q), model, `seed ${seed} step ${step}`);
      }
    }
  });

  it("a frozen queue refuses a push and stays empty", () => {
    const q = new ExchangeQueue(1);
    Object.freeze(q);
    assert.throws(() => q.push(ex(1)), TypeError);
    assert.equal(q.length, 0);
    assert.equal(q.first(), undefined);
  });
});
