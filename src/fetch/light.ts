/**
 * The `lightweightGlobals: true` opt-in: a `Request` and a `Response` that
 * cost a few property stores to make, installed as the globals, for
 * runtimes whose own constructors are slow (Node's undici: about 1.5 µs for
 * a GET request, 8 µs for a POST with a body, 3 to 4 µs for a response,
 * plus reading its body back through a stream; `bench/probes/light.ts`).
 *
 * Off by default: it replaces `globalThis.Request`, `globalThis.Response`
 * and `globalThis.fetch` for the whole process while a server started with
 * it runs, which the default never does. What it keeps:
 *
 * - `instanceof Request` / `instanceof Response` hold for these objects and
 *   for the runtime's own (what `fetch()` returns is still a Response);
 *   `Object.prototype.toString` says `[object Request]` / `[object Response]`.
 * - Every property and method of the runtime's `Request.prototype` and
 *   `Response.prototype` works on them. The common ones (`url`, `method`,
 *   `headers`, `status`, `text()`, `json()`, `arrayBuffer()`, `bytes()`,
 *   `clone()` ...) are answered directly; anything else (`body` as a
 *   stream, `blob()`, `formData()`, `cache`, a property a later runtime
 *   adds) builds the runtime's own object once, from the same state, and
 *   answers from it.
 * - `new Request(light, init)`, `new Request(url, light)` and
 *   `fetch(light)` unwrap to the runtime's own object, so proxies work.
 * - Construction validates as the runtime's does where it matters
 *   (status range, status text, header names and values, bodies on
 *   null-body statuses): anything unusual is handed to the runtime's own
 *   constructor, which throws what it throws.
 *
 * What it gives up: the runtime's own brand checks. A runtime function
 * taken before the install and called on one of these objects
 * (`Response.prototype.text.call(light)`, a saved `fetch(light)`) throws
 * its TypeError; the runtime's own servers (`Bun.serve`, `Deno.serve`) and
 * Deno's Cache API refuse light responses. A library that captured the
 * runtime's `Request` or `Response` before `serve()` ran makes the
 * runtime's own objects (they are served as usual). Fields read before the
 * runtime's own object is built stay the ones the light object shows (and
 * the server writes); the runtime's object holds a copy, brought up to
 * date each time it is used.
 *
 * @module
 */

import type { BodySource } from "./body.ts";
import { forEachField, type RequestHead } from "../http/parser.ts";
import { ABORT, assertCarried, clientGone, type UrlCache } from "./request.ts";
import type { Transport } from "../socket.ts";

const NativeRequest: typeof Request = globalThis.Request;
const NativeResponse: typeof Response = globalThis.Response;
const NativeHeaders: typeof Headers = globalThis.Headers;
const nativeFetch: typeof fetch = globalThis.fetch;

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
/**
 * The type the runtime's Response lists for a string body: Node and Deno
 * list `text/plain;charset=UTF-8`; Bun lists none (its server adds it, the
 * Bun adapter's `impliedType` here), and a light one does the same.
 */
const TEXT_TYPE: string | null = new NativeResponse("").headers.get("content-type");
/** A light text response's fields while nobody has read its `headers`: the implied type only (none on Bun, whose Response does not list it). */
const TEXT_FIELDS: readonly (readonly [string, string])[] = Object.freeze(TEXT_TYPE === null ? [] : [Object.freeze(["content-type", TEXT_TYPE] as const)]);
const NO_FIELDS: readonly (readonly [string, string])[] = Object.freeze([]);
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** The runtime's own object behind a light one (built on first need). */
const REAL: unique symbol = Symbol("anyserve.real");

function unusable(): TypeError {
  return new TypeError("Body is unusable: Body has already been read");
}

/** A string whose `text()` the runtimes do not all give back as it is: a leading BOM or a lone surrogate. */
function unusual(s: string): boolean {
  return s.charCodeAt(0) === 0xfeff || !(s as string & { isWellFormed(): boolean }).isWellFormed();
}

function copyBytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

// ---- Request -------------------------------------------------------------

/**
 * The handler's request under `lightweightGlobals`: URL, method and the
 * parsed head, with headers decoded on first read and the body read
 * straight from the connection when it arrived whole.
 */
class LightRequest {
  readonly #url: string;
  readonly #method: string;
  #head: RequestHead | null;
  #body: BodySource | null;
  #headers: Headers | null = null;
  #real: Request | null = null;
  /** The body was read through the fast path (text(), json() ...). */
  #used = false;
  #controller: AbortController | null = null;
  #gone = false;

  constructor(url: string, method: string, head: RequestHead | null, body: BodySource | null) {
    this.#url = url;
    this.#method = method;
    this.#head = head;
    this.#body = body;
  }

  static isLight(v: unknown): v is LightRequest {
    return typeof v === "object" && v !== null && #url in v;
  }

  get url(): string {
    return this.#url;
  }

  get method(): string {
    return this.#method;
  }

  get headers(): Headers {
    let h = this.#headers;
    if (h === null) {
      h = this.#headers = new NativeHeaders();
      const head = this.#head;
      if (head !== null) {
        this.#head = null;
        forEachField(head, h.append, h);
      }
    }
    return h;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#gone) this.#controller.abort(clientGone());
    }
    return this.#controller.signal;
  }

  /** Connection side: the client went away before the response was done. */
  [ABORT](): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#controller?.abort(clientGone());
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#real === null && this.#body === null) return null;
    return this[REAL]().body as ReadableStream<Uint8Array> | null;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real !== null && this.#real.bodyUsed);
  }

  /** The body's bytes when they are all here and nothing read them (a view: copy before handing out), else null. */
  #whole(): Uint8Array | null {
    if (this.#real !== null || this.#used) return null;
    const b = this.#body;
    if (b === null) return EMPTY;
    if (!b.complete) return null;
    const bytes = b.all() as Uint8Array;
    this.#used = true;
    return bytes;
  }

  text(): Promise<string> {
    if (this.#used) return Promise.reject(unusable());
    const bytes = this.#whole();
    return bytes !== null ? Promise.resolve(decoder.decode(bytes)) : this[REAL]().text();
  }

  json(): Promise<unknown> {
    return this.text().then(JSON.parse);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#used) return Promise.reject(unusable());
    const bytes = this.#whole();
    return bytes !== null ? Promise.resolve(copyBytes(bytes).buffer) : this[REAL]().arrayBuffer();
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#used) return Promise.reject(unusable());
    const bytes = this.#whole();
    return bytes !== null ? Promise.resolve(copyBytes(bytes)) : (this[REAL]() as Request & { bytes(): Promise<Uint8Array<ArrayBuffer>> }).bytes();
  }

  clone(): Request {
    if (this.#used) throw new TypeError("Request.clone: Body has already been consumed.");
    return this[REAL]().clone();
  }

  /** The runtime's own Request with this one's state (made once). */
  [REAL](): Request {
    let real = this.#real;
    if (real !== null) {
      // The fields this request shows may have changed since: the runtime's copy follows.
      syncFields(real.headers, this.#headers!);
      return real;
    }
    const init: RequestInit & { duplex?: "half" } = { method: this.#method };
    const b = this.#body;
    if (b !== null) {
      init.body = this.#used ? EMPTY : b.complete ? b.all() as Uint8Array<ArrayBuffer> : b.stream();
      init.duplex = "half";
    }
    // Headers nobody has seen yet go straight into the real request's
    // own (one object, as without this opt-in); ones already handed out
    // stay the ones this request shows, and the real one takes a copy,
    // brought up to date each time it is used.
    if (this.#headers !== null) init.headers = this.#headers;
    real = this.#real = new NativeRequest(this.#url, init);
    if (this.#headers === null) {
      const head = this.#head;
      this.#head = null;
      this.#headers = real.headers;
      if (head !== null) forEachField(head, real.headers.append, real.headers);
    }
    // Read already through the fast path: the real one is disturbed too.
    if (this.#used) real.arrayBuffer().catch(() => {});
    return real;
  }

  [INSPECT](depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return inspect(this[REAL](), options);
  }
}

/** The global `Request` while the opt-in is installed: the runtime's, unwrapping light requests. */
class Request_ extends NativeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    if (LightRequest.isLight(input)) input = input[REAL]();
    if (LightRequest.isLight(init)) init = lightAsInit(init);
    super(input, init);
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    // `x instanceof Request` holds for light requests and the runtime's own;
    // a user's subclass keeps the ordinary check.
    if (this !== Request_) return Function.prototype[Symbol.hasInstance].call(this, v);
    return Function.prototype[Symbol.hasInstance].call(NativeRequest, v);
  }
}
Object.defineProperty(Request_, "name", { value: "Request" });
Object.defineProperty(Request_, "length", { value: NativeRequest.length });

/** A light request used as a `RequestInit`: the runtime reads its properties, so hand it the real one. */
function lightAsInit(init: LightRequest): RequestInit {
  return init[REAL]() as unknown as RequestInit;
}

// ---- Response ------------------------------------------------------------

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** RFC 9112 reason-phrase: HTAB, SP, VCHAR, obs-text. */
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The global `Response` while the opt-in is installed. A string, bytes or
 * null body with an ordinary init is kept as given; anything else (a
 * stream, a Blob, FormData, an unusual init) is the runtime's own Response
 * at once, wrapped.
 */
class LightResponse {
  #body: string | Uint8Array | null = null;
  #status = 200;
  #statusText = "";
  #headers: Headers | null = null;
  #real: Response | null = null;
  #used = false;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    let status = 200;
    let statusText = "";
    let light = true;
    if (init !== undefined && init !== null) {
      // Not a dictionary: the runtime's constructor says what it says.
      if (typeof init !== "object") light = false;
      const s = init.status;
      if (s !== undefined) {
        if (typeof s === "number" && Number.isInteger(s) && s >= 200 && s <= 599) status = s;
        else light = false;
      }
      const t = init.statusText;
      if (t !== undefined) {
        if (typeof t === "string" && REASON.test(t)) statusText = t;
        else light = false;
      }
    }
    let stored: string | Uint8Array | null = null;
    if (body === undefined || body === null) stored = null;
    else if (typeof body === "string") stored = body;
    else if (body instanceof Uint8Array) stored = copyBytes(body);
    else if (body instanceof ArrayBuffer) stored = new Uint8Array(body.slice(0));
    else light = false;
    if (stored !== null && NULL_BODY_STATUS.has(status)) light = false;
    if (!light) {
      this.#real = new NativeResponse(body, init);
      return;
    }
    this.#body = stored;
    this.#status = status;
    this.#statusText = statusText;
    const given = init?.headers;
    if (given !== undefined) {
      // Validated and copied now, as the runtime's constructor does.
      const h = this.#headers = new NativeHeaders(given);
      if (typeof stored === "string" && TEXT_TYPE !== null && !h.has("content-type")) h.set("content-type", TEXT_TYPE);
    }
  }

  static [Symbol.hasInstance](v: unknown): boolean {
    if (this !== LightResponse) return Function.prototype[Symbol.hasInstance].call(this, v);
    return Function.prototype[Symbol.hasInstance].call(NativeResponse, v);
  }

  static isLight(v: unknown): boolean {
    return typeof v === "object" && v !== null && #real in v;
  }

  /** What a light response's body was made from (see {@linkcode lightBodyKind}). */
  static bodyKind(res: unknown): "text" | "bytes" | "other" | undefined {
    if (!LightResponse.isLight(res)) return undefined;
    const r = res as LightResponse;
    if (r.#real !== null) return "other";
    return typeof r.#body === "string" ? "text" : r.#body === null ? "other" : "bytes";
  }

  /**
   * The fields of a light response made without `headers` whose `headers`
   * nobody has read (Hono's `c.text()` and `c.body()` with no field set),
   * without making its `Headers`: none, or the implied text type. Null for
   * anything else (the server then iterates `headers`).
   */
  static fields(res: unknown): readonly (readonly [string, string])[] | null {
    if (typeof res !== "object" || res === null || !(#real in res)) return null;
    const r = res as LightResponse;
    if (r.#real !== null || r.#headers !== null) return null;
    return typeof r.#body === "string" ? TEXT_FIELDS : NO_FIELDS;
  }

  /** The fixed body for the server to write without a stream (and it counts as read), or undefined. */
  static takeBody(res: unknown): string | Uint8Array | null | undefined {
    if (typeof res !== "object" || res === null || !(#real in res)) return undefined;
    const r = res as LightResponse;
    if (r.#real !== null || r.#used) return undefined;
    r.#used = r.#body !== null;
    return r.#body;
  }

  get status(): number {
    return this.#real !== null ? this.#real.status : this.#status;
  }

  get statusText(): string {
    return this.#real !== null ? this.#real.statusText : this.#statusText;
  }

  get ok(): boolean {
    const s = this.status;
    return s >= 200 && s <= 299;
  }

  get headers(): Headers {
    let h = this.#headers;
    if (h === null) {
      if (this.#real !== null) return this.#real.headers;
      h = this.#headers = new NativeHeaders();
      if (typeof this.#body === "string" && TEXT_TYPE !== null) h.set("content-type", TEXT_TYPE);
    }
    return h;
  }

  get type(): ResponseType {
    return this.#real !== null ? this.#real.type : "default";
  }

  get url(): string {
    return this.#real !== null ? this.#real.url : "";
  }

  get redirected(): boolean {
    return this.#real !== null ? this.#real.redirected : false;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#real === null && this.#body === null) return null;
    return this[REAL]().body as ReadableStream<Uint8Array> | null;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real !== null && this.#real.bodyUsed);
  }

  /** The body when it can be read without the real object, marked read; null otherwise. */
  #take(): string | Uint8Array | null {
    if (this.#real !== null || this.#used) return null;
    const b = this.#body;
    if (b === null) return EMPTY;
    this.#used = true;
    return b;
  }

  text(): Promise<string> {
    if (this.#used) return Promise.reject(unusable());
    // A string with a BOM or a lone surrogate: what the runtime makes of it
    // differs (Node and Deno round-trip it through UTF-8, Bun does not).
    const s = this.#body;
    if (typeof s === "string" && this.#real === null && unusual(s)) return this[REAL]().text();
    const b = this.#take();
    if (b === null) return this[REAL]().text();
    return Promise.resolve(typeof b === "string" ? b : decoder.decode(b));
  }

  json(): Promise<unknown> {
    return this.text().then(JSON.parse);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytes().then((b) => b.buffer);
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#used) return Promise.reject(unusable());
    const b = this.#take();
    if (b === null) return (this[REAL]() as Response & { bytes(): Promise<Uint8Array<ArrayBuffer>> }).bytes();
    return Promise.resolve(typeof b === "string" ? new TextEncoder().encode(b) as Uint8Array<ArrayBuffer> : copyBytes(b));
  }

  clone(): Response {
    if (this.#used) throw new TypeError("Response.clone: Body has already been consumed.");
    if (this.#real === null) {
      const init: ResponseInit = { status: this.#status, statusText: this.#statusText, headers: this.headers };
      return new LightResponse(this.#body as BodyInit | null, init) as unknown as Response;
    }
    const copy = this.#real.clone();
    if (this.#headers === null) return copy;
    // Fields read from this object before its body became a stream are the ones it shows.
    return new NativeResponse(copy.body, { status: copy.status, statusText: copy.statusText, headers: this.#headers });
  }

  /** The runtime's own Response with this one's state (made once). */
  [REAL](): Response {
    let real = this.#real;
    if (real !== null) {
      if (this.#headers !== null) syncFields(real.headers, this.#headers);
      return real;
    }
    const body = this.#used ? EMPTY : this.#body;
    const init: ResponseInit = { status: this.#status, statusText: this.#statusText };
    // As for requests: fields not yet made are the real one's own; made ones are copied and kept up to date.
    if (this.#headers !== null) init.headers = this.#headers;
    real = this.#real = new NativeResponse(body as BodyInit | null, init);
    if (this.#headers === null) this.#headers = real.headers;
    if (this.#used) real.arrayBuffer().catch(() => {});
    return real;
  }

  [INSPECT](depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return inspect(this[REAL](), options);
  }
}
Object.setPrototypeOf(LightResponse, NativeResponse);
Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
Object.defineProperty(LightResponse, "name", { value: "Response" });
Object.defineProperty(LightResponse, "length", { value: NativeResponse.length });
// A light request is a `Request` to `Request.prototype.isPrototypeOf` and `req.constructor` too.
Object.setPrototypeOf(LightRequest.prototype, Request_.prototype);
Object.defineProperty(LightRequest.prototype, "constructor", { configurable: true, writable: true, value: Request_ });

/**
 * Makes `to` (the runtime's own object's fields) hold what `from` (the
 * light object's, which the app may have changed since `to` was copied
 * from it) holds, in order; `Set-Cookie` lines stay separate.
 */
function syncFields(to: Headers, from: Headers): void {
  if (to === from) return;
  const want: [string, string][] = [];
  from.forEach((value, name) => want.push([name, value]));
  let same = true;
  let i = 0;
  to.forEach((value, name) => {
    const w = want[i++];
    if (w === undefined || w[0] !== name || w[1] !== value) same = false;
  });
  if (same && i === want.length) return;
  for (const name of [...to.keys()]) to.delete(name);
  for (const [name, value] of want) to.append(name, value);
}

/**
 * Whatever the runtime's prototype has that the light one does not answer
 * itself is answered by the runtime's own object (built from the light
 * one's state), so a property added by a later runtime works too.
 */
function delegateRest(light: object, native: object): void {
  // String keys only: a runtime keeps internal state under symbol-keyed
  // accessors of its prototype (Deno's `[_headers]`), which must stay as they are.
  for (const key of Object.getOwnPropertyNames(native)) {
    if (key === "constructor" || Object.prototype.hasOwnProperty.call(light, key)) continue;
    const d = Object.getOwnPropertyDescriptor(native, key)!;
    if (typeof d.get === "function") {
      Object.defineProperty(light, key, {
        configurable: true,
        enumerable: d.enumerable,
        get(this: { [REAL](): object }) {
          return Reflect.get(native, key, this[REAL]());
        },
      });
    } else if (typeof d.value === "function") {
      const method = d.value as (...args: unknown[]) => unknown;
      Object.defineProperty(light, key, {
        configurable: true,
        enumerable: d.enumerable,
        writable: true,
        value: function (this: { [REAL](): object }, ...args: unknown[]) {
          return method.apply(this[REAL](), args);
        },
      });
    }
  }
}
delegateRest(LightRequest.prototype, NativeRequest.prototype);
delegateRest(LightResponse.prototype, NativeResponse.prototype);

/**
 * Makes each member of `target` (a global's prototype) answer both kinds:
 * the light implementation for a light object, the runtime's own for the
 * runtime's, so `Object.getOwnPropertyDescriptor(Response.prototype,
 * "status").get.call(x)` works on either, as it does on the runtime's.
 */
function dualDispatch(target: object, light: object, native: object, isLight: (v: unknown) => boolean): void {
  for (const key of Object.getOwnPropertyNames(native)) {
    if (key === "constructor") continue;
    const n = Object.getOwnPropertyDescriptor(native, key)!;
    const l = Object.getOwnPropertyDescriptor(light, key);
    if (l === undefined) continue;
    if (typeof n.get === "function" && typeof l.get === "function") {
      const ng = n.get, lg = l.get;
      Object.defineProperty(target, key, {
        configurable: true,
        enumerable: n.enumerable,
        get(this: unknown) {
          return isLight(this) ? lg.call(this) : ng.call(this);
        },
      });
    } else if (typeof n.value === "function" && typeof l.value === "function") {
      const nf = n.value as (...a: unknown[]) => unknown, lf = l.value as (...a: unknown[]) => unknown;
      Object.defineProperty(target, key, {
        configurable: true,
        enumerable: n.enumerable,
        writable: true,
        // A named method (`Response.prototype.text.name` is "text").
        value: {
          [key](this: unknown, ...args: unknown[]) {
            return isLight(this) ? lf.apply(this, args) : nf.apply(this, args);
          },
        }[key],
      });
    }
  }
}
dualDispatch(Request_.prototype, LightRequest.prototype, NativeRequest.prototype, LightRequest.isLight);
// LightResponse is the global itself: its own members, kept aside, become the light half.
dualDispatch(
  LightResponse.prototype,
  Object.defineProperties({}, Object.getOwnPropertyDescriptors(LightResponse.prototype)),
  NativeResponse.prototype,
  LightResponse.isLight,
);

/** The global `fetch` while the opt-in is installed: light requests in, the runtime's fetch out. */
function fetch_(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (LightRequest.isLight(input)) input = input[REAL]();
  if (LightRequest.isLight(init)) init = lightAsInit(init);
  return nativeFetch(input, init);
}
Object.defineProperty(fetch_, "name", { value: "fetch" });
Object.defineProperty(fetch_, "length", { value: nativeFetch.length });

// ---- installing ----------------------------------------------------------

let installed = 0;
let saved: { Request: typeof Request; Response: typeof Response; fetch: typeof fetch } | null = null;

/**
 * Installs the light `Request`, `Response` and `fetch` as globals (once per
 * process; each call counts). Returns a function that takes this call's
 * install back: the runtime's own return when the last one is taken back.
 */
export function installLightweightGlobals(): () => void {
  if (installed++ === 0) {
    const g = globalThis as { Request: unknown; Response: unknown; fetch: unknown };
    saved = { Request: g.Request as typeof Request, Response: g.Response as typeof Response, fetch: g.fetch as typeof fetch };
    g.Request = Request_;
    g.Response = LightResponse;
    g.fetch = fetch_;
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--installed === 0 && saved !== null) {
      const g = globalThis as { Request: unknown; Response: unknown; fetch: unknown };
      // Only what is still ours is put back: something installed after us stays.
      if (g.Request === Request_) g.Request = saved.Request;
      if (g.Response === LightResponse) g.Response = saved.Response;
      if (g.fetch === fetch_) g.fetch = saved.fetch;
      saved = null;
    }
  };
}

/** The last URL found valid: requests mostly repeat it. */
let lastValidUrl = "";

/**
 * The handler's request under the opt-in. Keeps the default's rules (see
 * `makeRequest` in `./request.ts`): no body on GET and HEAD (dropped), and
 * a TypeError for a method or URL the runtime's `Request` would refuse.
 */
export function makeLightRequest(head: RequestHead, body: BodySource | null, urls: UrlCache): Request {
  const method = head.method;
  assertCarried(method);
  const url = urls.urlOf(head);
  if (url !== lastValidUrl) {
    // What the runtime's constructor refuses: a URL it cannot parse, or one with credentials.
    const parsed = URL.parse(url);
    if (parsed === null || parsed.username !== "" || parsed.password !== "") throw new TypeError(`Invalid URL: ${url}`);
    lastValidUrl = url;
  }
  if (body !== null && (method === "GET" || method === "HEAD")) {
    body.drop();
    body = null;
  }
  return new LightRequest(url, method, head, body) as unknown as Request;
}

/**
 * The fixed body of a light Response (taken: it counts as read); null for a
 * null body (the server then finds `body` null, as for the runtime's own)
 * or anything else.
 */
export function lightStaticBody(res: Response): string | Uint8Array | null {
  return LightResponse.takeBody(res) ?? null;
}

/**
 * For a light Response, what its body was made from: `"text"` (a string),
 * `"bytes"`, or `"other"` (null, or a body the runtime's own object holds);
 * undefined for anything else. For adapters whose runtime implies a type
 * its Response does not list (Bun).
 */
export function lightBodyKind(res: Response): "text" | "bytes" | "other" | undefined {
  return LightResponse.bodyKind(res);
}

/** `transport` with the opt-in's request and response fast paths in front of its own. */
export function withLightweightGlobals(transport: Transport): Transport {
  const own = transport.staticBody?.bind(transport);
  const ownFields = transport.responseFields?.bind(transport);
  return {
    ...transport,
    makeRequest: makeLightRequest,
    // The runtime's own fast paths only for the runtime's own responses.
    staticBody: own === undefined ? lightStaticBody : (res) => LightResponse.isLight(res) ? lightStaticBody(res) : own(res),
    responseFields: (res) => LightResponse.isLight(res) ? LightResponse.fields(res) : ownFields?.(res) ?? null,
  } as Transport;
}
