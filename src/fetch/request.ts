/**
 * The `Request` a handler receives: a real one, made by the runtime's own
 * `Request` constructor, so every web API that takes a Request
 * (`new Request(req, init)`, `fetch(req)`, `clone()`, `Request.prototype`
 * getters, brand checks) treats it exactly as it treats its own.
 *
 * It is an instance of a thin subclass ({@linkcode ServerRequest}; a
 * subclass, not a patch: the global `Request` is untouched) whose only
 * addition is a `signal` made on first read, which aborts when the client
 * goes away. Building it costs what the runtime's constructor costs; the
 * cheapest form measured on each runtime (`bench/probes/request_forms.ts`)
 * is `new Request(url)` (plus method and body when there is one) followed by
 * appending the fields to its own `headers`: a `headers` or `signal` in the
 * init costs 1 to 4 µs more each, in WebIDL conversions and signal following.
 *
 * @module
 */

import type { BodySource } from "./body.ts";
import { forEachField, type RequestHead } from "../http/parser.ts";
import { latin1 } from "../http/chars.ts";

/**
 * The last URL built for an origin, keyed by the Host and request-target
 * bytes it came from. Requests mostly repeat both (pipelined benchmarks,
 * polling clients, one hot route), and comparing a few dozen bytes costs
 * less than decoding and concatenating strings again. The URL depends only
 * on those bytes and the origin, so all connections share one per scheme
 * ({@linkcode sharedUrlCache}) and an idle connection holds none.
 */
export class UrlCache {
  /** `http://local-address:port` (`https://` on TLS), for requests without a Host (HTTP/1.0); just the scheme in a shared cache, which such requests never reach. */
  readonly origin: string;
  /** The origin's scheme and `//`: `"https://"` or `"http://"`. */
  readonly #scheme: string;
  #key: Uint8Array = new Uint8Array(64);
  #hostLength = -1;
  #targetLength = -1;
  #url = "";

  constructor(origin: string) {
    this.origin = origin;
    this.#scheme = origin.startsWith("https:") ? "https://" : "http://";
  }

  /** The URL for `head`, from the cache when its bytes match. */
  urlOf(head: RequestHead): string {
    const buf = head.buf;
    const hostLength = head.hostStart === -1 ? 0 : head.hostEnd - head.hostStart;
    const targetLength = head.targetEnd - head.targetStart;
    const key = this.#key;
    if (hostLength === this.#hostLength && targetLength === this.#targetLength) {
      let same = true;
      for (let i = 0; i < hostLength; i++) {
        if (key[i] !== buf[head.hostStart + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        for (let i = 0; i < targetLength; i++) {
          if (key[hostLength + i] !== buf[head.targetStart + i]) {
            same = false;
            break;
          }
        }
      }
      if (same) return this.#url;
    }
    const url = buildUrl(head, this.origin, this.#scheme);
    if (hostLength + targetLength <= key.length) {
      if (hostLength > 0) key.set(buf.subarray(head.hostStart, head.hostEnd), 0);
      key.set(buf.subarray(head.targetStart, head.targetEnd), hostLength);
      this.#hostLength = hostLength;
      this.#targetLength = targetLength;
      this.#url = url;
    }
    return url;
  }
}

const HTTP_URLS = new UrlCache("http://");
const HTTPS_URLS = new UrlCache("https://");

/**
 * The URL cache for requests that name their host (a Host field, or an
 * absolute target), which every connection shares: their URL needs no
 * connection's address. `http://` or `https://` as the connection is.
 */
export function sharedUrlCache(encrypted: boolean): UrlCache {
  return encrypted ? HTTPS_URLS : HTTP_URLS;
}

function buildUrl(h: RequestHead, fallbackOrigin: string, scheme: string): string {
  const buf = h.buf;
  const target = latin1(buf, h.targetStart, h.targetEnd);
  const c = buf[h.targetStart];
  if (c !== 0x2f /* / */ && c !== 0x2a /* * */) return normalized(target, target); // absolute-form
  const origin = h.hostStart === -1 ? fallbackOrigin : scheme + latin1(buf, h.hostStart, h.hostEnd);
  const raw = c === 0x2a ? origin + "/*" : origin + target;
  // Fast path: a plain target and a lower-case host without a default
  // port read the same before and after URL serialization, so the raw
  // string is already what `new Request(raw).url` would give.
  if (!h.targetMarked && (h.hostStart === -1 || plainHost(buf, h.hostStart, h.hostEnd, scheme.length === 8))) return raw;
  return normalized(raw, raw);
}

/** What the URL standard makes of `url` (dot segments, percent-encoding, host case), or `fallback`. */
function normalized(url: string, fallback: string): string {
  try {
    return new URL(url).href;
  } catch {
    return fallback;
  }
}

/** A host URL serialization leaves alone: no upper case, no IPv6 literal, no default port (`:80`, `:443` on https), no empty port or one with a leading zero. */
function plainHost(buf: Uint8Array, start: number, end: number, secure: boolean): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if ((b >= 0x41 && b <= 0x5a) || b === 0x5b /* [ */ || b === 0x25 /* % */) return false;
  }
  const n = end - start;
  if (buf[end - 1] === 0x3a /* : */) return false;
  // A port with a leading zero (`:0080`) serializes without it.
  for (let i = end - 1; i > start; i--) {
    if (buf[i] === 0x3a /* : */) {
      if (buf[i + 1] === 0x30 /* 0 */) return false;
      break;
    }
  }
  if (secure) {
    // ":443"
    return !(n > 4 && buf[end - 4] === 0x3a && buf[end - 3] === 0x34 && buf[end - 2] === 0x34 && buf[end - 1] === 0x33);
  }
  if (n > 3 && buf[end - 3] === 0x3a && buf[end - 2] === 0x38 && buf[end - 1] === 0x30) return false; // ":80"
  return true;
}

/** Connection side: how a request is told that its client went away. */
export const ABORT: unique symbol = Symbol("anyserve.abort");

/** What the connection calls when the client of `request` went away. */
export function abortRequest(request: Request): void {
  (request as { [ABORT]?: () => void })[ABORT]?.();
}

/**
 * The handler's request: the runtime's own `Request`, plus a `signal` that
 * aborts when the client leaves.
 *
 * Its signal is made on first read, not passed in the init, which would cost
 * 2 to 4 µs a request (undici keeps it with a WeakRef and a
 * FinalizationRegistry). The limit: what the runtime copies from the request
 * itself (`new Request(req)`, `req.clone()`, `fetch(req)`, and
 * `Request.prototype`'s `signal` getter called on it) follows the runtime's
 * internal signal, which never aborts; pass `{ signal: req.signal }` to
 * forward the abort.
 */
export class ServerRequest extends Request {
  #controller: AbortController | undefined;
  #gone = false;

  override get signal(): AbortSignal {
    if (this.#controller === undefined) {
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
}

/**
 * Makes the handler's request for a parsed head and its body (null when it
 * has none). Throws (a TypeError) when the runtime's `Request` cannot carry
 * it: a URL its parser rejects, a method `fetch` forbids (TRACE and TRACK on
 * Node and Deno), or one it would change (all runtimes upper-case `get`,
 * `post`, `put`, `delete`, `head` and `options`, a method RFC 9110 holds
 * distinct from `GET`; Bun turns a method it does not know into `GET`).
 *
 * A body that arrived whole with its head goes in as bytes (the constructor
 * copies them: they are a view into the socket's read buffer); one still
 * arriving goes in as a pull stream over the socket, so a handler that reads
 * slowly slows the client down. GET and HEAD requests get no body, as from
 * `@hono/node-server`, `Deno.serve` and `Bun.serve`: `Request` refuses one for
 * them. Their body is discarded, so the connection reads it to its end and
 * drops it.
 */
export function makeRequest(head: RequestHead, body: BodySource | null, urls: UrlCache): Request {
  const method = head.method;
  const url = urls.urlOf(head);
  let request: ServerRequest;
  if (body !== null && method !== "GET" && method !== "HEAD") {
    request = new ServerRequest(url, {
      method,
      body: body.complete ? body.all() as Uint8Array<ArrayBuffer> : body.stream(),
      duplex: "half",
    } as RequestInit);
  } else {
    if (body !== null) body.drop();
    request = method === "GET" ? new ServerRequest(url) : new ServerRequest(url, { method });
  }
  if (request.method !== method) throw new TypeError(`The method ${method} cannot be carried by a Request`);
  appendFields(head, request.headers);
  return request;
}

/**
 * Whether this runtime's `Request` carries `method` as it is. For the error
 * path only (it builds a Request): a request refused for its method is a
 * 501, one refused for its URL a 400.
 */
export function methodCarried(method: string): boolean {
  try {
    return new Request("http://h/", { method }).method === method;
  } catch {
    return false;
  }
}

/** Whether each method seen so far can be carried (a server sees few methods; at most 64 are kept). */
const carried = new Map<string, boolean>();

/**
 * Throws the TypeError `makeRequest` would for a method this runtime's
 * `Request` refuses or would change, from a per-process cache. For the
 * ways of making a request that do not go through the runtime's
 * constructor (Deno's brand token, the lightweightGlobals opt-in).
 */
export function assertCarried(method: string): void {
  let ok = carried.get(method);
  if (ok === undefined) {
    ok = methodCarried(method);
    if (carried.size < 64) carried.set(method, ok);
  }
  if (!ok) throw new TypeError(`The method ${method} cannot be carried by a Request`);
}

/** Appends each header field of `head` to `headers`, in order (see {@linkcode forEachField}). */
export function appendFields(head: RequestHead, headers: Headers): void {
  forEachField(head, headers.append, headers);
}

/** The reason `request.signal` aborts with when the client leaves. */
export function clientGone(): Error {
  return new DOMException("The client closed the connection", "AbortError");
}
