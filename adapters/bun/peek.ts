/**
 * The Bun fast path for settled promises: `transport.peek`.
 *
 * @module
 */

/** `Bun.peek`: a settled promise's value, synchronously. */
interface BunPeek {
  <T>(promise: Promise<T>): T | Promise<T>;
  status(promise: Promise<unknown>): "pending" | "fulfilled" | "rejected";
}

/** `transport.peek` with `Bun.peek`. */
export function peek<T>(promise: Promise<T>): T | Promise<T> {
  // Only a fulfilled value counts: a rejection must still reach the await.
  const peek = (globalThis as { Bun?: { peek: BunPeek } }).Bun!.peek;
  return peek.status(promise) === "fulfilled" ? peek(promise) as T : promise;
}
