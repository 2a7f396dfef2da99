/**
 * The Deno fast path for fixed bodies: `transport.staticBody`.
 *
 * @module
 */

/**
 * Deno keeps a Response's fixed body (from a string or bytes) where
 * `Deno.serve` itself reads it to skip the stream: in the "serve fast body"
 * slot while the Response is untouched, else as `{ body, consumed }` in its
 * internal state once something (a header read, say) materialized it. Find
 * both slots once, by probing Responses of our own; if this Deno lays them
 * out differently, a probe fails and the core reads the body stream as
 * usual. Always read before `response.body`, which turns either into a
 * stream.
 */
type Slots = Record<symbol, unknown>;
interface InnerResponse {
  body?: { streamOrStatic?: { body?: unknown; consumed?: boolean } } | null;
}
const symbolNamed = (o: object, name: string) => Object.getOwnPropertySymbols(o).find((s) => s.description === name);
const slots = (() => {
  try {
    const fresh = new Response("probe");
    const fastBody = symbolNamed(fresh, "serve fast body");
    const fastConsumed = symbolNamed(fresh, "serve fast consumed");
    const fastOk = fastBody !== undefined && fastConsumed !== undefined &&
      (fresh as unknown as Slots)[fastBody] === "probe" && (fresh as unknown as Slots)[fastConsumed] === false;
    const touched = new Response("probe");
    touched.headers.get("content-type"); // materializes the inner body
    const inner = symbolNamed(touched, "response");
    const sos = inner === undefined ? undefined : ((touched as unknown as Slots)[inner] as InnerResponse).body?.streamOrStatic;
    const innerOk = sos?.body === "probe" && sos.consumed === false;
    return {
      fastBody: fastOk ? fastBody : undefined,
      fastConsumed: fastOk ? fastConsumed : undefined,
      inner: innerOk ? inner : undefined,
    };
  } catch {
    return { fastBody: undefined, fastConsumed: undefined, inner: undefined };
  }
})();

export function staticBody(response: Response): string | Uint8Array | null {
  const r = response as unknown as Slots;
  // A body someone started reading is theirs, not a fixed one any more.
  if (response.bodyUsed) return null;
  if (slots.fastBody !== undefined && r[slots.fastConsumed!] === false) {
    const fast = r[slots.fastBody];
    if (typeof fast === "string" || fast instanceof Uint8Array) {
      r[slots.fastConsumed!] = true;
      return fast;
    }
  }
  if (slots.inner === undefined) return null;
  const sos = (r[slots.inner] as InnerResponse | undefined)?.body?.streamOrStatic;
  if (sos === undefined || sos.consumed !== false) return null;
  const body = sos.body;
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return null;
  sos.consumed = true;
  return body;
}
