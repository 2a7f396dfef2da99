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

type Fields = readonly (readonly [string, string])[];
interface FieldSlots {
  inner: symbol;
  kind: symbol;
  type: symbol;
  /** The Content-Type a fast-path string Response implies ("serve fast header kind" 1, no type of its own). */
  textType: string;
}

/** Per implied type, the one field of a fast-path Response (a handful of types in practice). */
const typeFields = new Map<string, Fields>();

/**
 * Deno keeps a Response's fields as one list of `[name, value]` pairs
 * (names as given, in order, one pair per value) that its `Headers` wraps
 * and edits in place, and `Deno.serve` writes that list. Reading it
 * directly skips making the `Headers` and its sorted, combined iteration
 * (about 0.25 µs a response on Deno 2.9). A Response made on Deno's fast
 * path (`new Response("x")`, `Response.json(v)`: what Hono's `c.text()` and
 * `c.json()` make when no field was set) keeps its list empty and its
 * implied Content-Type aside (a "serve fast header kind" other than 0, the
 * type in "serve fast content type", or none for text) until its `headers`
 * is read; for those the one field is that type. All of it is checked
 * once, at load, against what `headers` gives for Responses of our own,
 * edits through `headers` included; if this Deno differs, the core
 * iterates `headers`.
 */
const fieldSlots = ((): FieldSlots | undefined => {
  try {
    const r = new Response("probe", { headers: { "X-Probe": "1" } });
    const inner = symbolNamed(r, "response");
    const kind = symbolNamed(r, "serve fast header kind");
    const type = symbolNamed(r, "serve fast content type");
    const textType = new Response("probe").headers.get("content-type");
    if (inner === undefined || kind === undefined || type === undefined || textType === null) return undefined;
    const found: FieldSlots = { inner, kind, type, textType };
    const same = (l: Fields | null, want: Response) => {
      if (l === null) return false;
      const a = l.map(([n, v]) => `${n.toLowerCase()}: ${v}`).sort().join("\n");
      const b = [...want.headers].map(([n, v]) => `${n}: ${v}`).sort().join("\n");
      return a === b;
    };
    if (!same(fieldsOf(r, found), new Response("probe", { headers: { "X-Probe": "1" } }))) return undefined;
    r.headers.set("x-probe", "2");
    r.headers.append("x-other", "3");
    if (!same(fieldsOf(r, found), new Response("probe", { headers: { "X-Probe": "2", "X-Other": "3" } }))) return undefined;
    const fast: [() => Response, boolean][] = [
      [() => new Response("probe"), true],
      [() => Response.json({ probe: 1 }), false],
      [() => new Response(new Uint8Array(1)), false],
      [() => new Response(null), false],
    ];
    for (const [make, mustKnow] of fast) {
      const l = fieldsOf(make(), found);
      if ((l !== null || mustKnow) && !same(l, make())) return undefined;
    }
    return found;
  } catch {
    return undefined;
  }
})();

function fieldsOf(response: Response, slots: FieldSlots): Fields | null {
  const r = response as unknown as Slots;
  const list = (r[slots.inner] as { headerList?: [string, string][] } | undefined)?.headerList;
  if (!Array.isArray(list)) return null;
  const kind = r[slots.kind];
  if (kind === 0) return list;
  // A fast-path Response: its list is empty, its type kept aside.
  if (list.length !== 0) return null;
  const own = r[slots.type];
  const type = typeof own === "string" ? own : kind === 1 && own === null ? slots.textType : null;
  if (type === null) return null;
  let fields = typeFields.get(type);
  if (fields === undefined) {
    fields = [["content-type", type]];
    if (typeFields.size < 16) typeFields.set(type, fields);
  }
  return fields;
}

/** `transport.responseFields` on Deno (see {@linkcode fieldSlots}), or undefined when this Deno differs. */
export const responseFields: ((response: Response) => Fields | null) | undefined = fieldSlots === undefined
  ? undefined
  : (response) => fieldsOf(response, fieldSlots);
