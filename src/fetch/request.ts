/**
 * The `Request` a handler receives. It is built for the common case, where a
 * handler reads `method`, `url` and perhaps a header or two: nothing is
 * decoded until asked for, `headers` is materialized on first use, and the
 * body is read from the socket only when the handler reads it.
 *
 * It is not a global `Request` (we never patch globals), but its prototype
 * chain includes `Request.prototype`, so `request instanceof Request` holds,
 * and it implements every member of the `Request` interface itself.
 *
 * @module
 */

import type { BodySource } from "./body.ts";
import { forEachField, type RequestHead } from "../http/parser.ts";
import { latin1 } from "../http/chars.ts";

const decoder = new TextDecoder();

/**
 * The last URL built on a connection, keyed by the Host and request-target
 * bytes it came from. Requests on one connection mostly repeat both
 * (pipelined benchmarks, polling clients), and comparing a few dozen bytes
 * costs less than decoding and concatenating strings again.
 */
export class UrlCache {
  /** `http://local-address:port` (`https://` on TLS), for requests without a Host (HTTP/1.0). */
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

/** A host URL serialization leaves alone: no upper case, no IPv6 literal, no default port (`:80`, `:443` on https), no empty port. */
function plainHost(buf: Uint8Array, start: number, end: number, secure: boolean): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if ((b >= 0x41 && b <= 0x5a) || b === 0x5b /* [ */ || b === 0x25 /* % */) return false;
  }
  const n = end - start;
  if (buf[end - 1] === 0x3a /* : */) return false;
  if (secure) {
    // ":443"
    return !(n > 4 && buf[end - 4] === 0x3a && buf[end - 3] === 0x34 && buf[end - 2] === 0x34 && buf[end - 1] === 0x33);
  }
  if (n > 3 && buf[end - 3] === 0x3a && buf[end - 2] === 0x38 && buf[end - 1] === 0x30) return false; // ":80"
  return true;
}
const EMPTY = new Uint8Array(0);

/** Throws the TypeError fetch throws for a body read twice. */
function unusable(): never {
  throw new TypeError("Body is unusable: it has already been read");
}

/** A lazily materialized, web-standard request. */
export class IncomingRequest {
  #head: RequestHead;
  #urls: UrlCache;
  #body: BodySource | null;
  #url: string | undefined;
  #headers: Headers | undefined;
  #stream: ReadableStream<Uint8Array> | null | undefined;
  #used = false;
  #abort: AbortController | undefined;
  #aborted = false;

  /**
   * @param head the parsed head (kept: fields decode from its bytes)
   * @param body the body, or null when the request has none
   * @param urls the connection's URL cache (and origin for Host-less requests)
   */
  constructor(head: RequestHead, body: BodySource | null, urls: UrlCache) {
    this.#head = head;
    this.#body = body;
    this.#urls = urls;
  }

  get method(): string {
    return this.#head.method;
  }

  get url(): string {
    return (this.#url ??= this.#urls.urlOf(this.#head));
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers();
      forEachField(this.#head, (name, value) => headers.append(name, value));
      this.#headers = headers;
    }
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) {
      this.#stream = this.#body === null ? null : this.#body.stream();
    }
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#stream != null && this.#stream.locked);
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#aborted) this.#abort.abort(clientGone());
    }
    return this.#abort.signal;
  }

  /** Connection side: the client went away before the response was done. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abort?.abort(clientGone());
  }

  get cache(): RequestCache {
    return "default";
  }
  get credentials(): RequestCredentials {
    return "same-origin";
  }
  get destination(): RequestDestination {
    return "";
  }
  get integrity(): string {
    return "";
  }
  get keepalive(): boolean {
    return false;
  }
  get mode(): RequestMode {
    return "cors";
  }
  get redirect(): RequestRedirect {
    return "follow";
  }
  get referrer(): string {
    return "about:client";
  }
  get referrerPolicy(): ReferrerPolicy {
    return "";
  }
  get duplex(): "half" {
    return "half";
  }

  /** The body bytes, whole. Arrays handed out are views the caller may keep. */
  #bytes(): Uint8Array | Promise<Uint8Array> {
    if (this.bodyUsed) unusable();
    this.#used = true;
    if (this.#body === null) return EMPTY;
    if (this.#stream != null) return readAll(this.#stream);
    return this.#body.all();
  }

  text(): Promise<string> {
    try {
      const b = this.#bytes();
      if (b instanceof Uint8Array) return Promise.resolve(decoder.decode(b));
      return b.then((x) => decoder.decode(x));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async json(): Promise<any> {
    return JSON.parse(await this.text());
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return copy(await this.#bytes());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return copy(await this.#bytes()).buffer;
  }

  async blob(): Promise<Blob> {
    const type = this.headers.get("content-type") ?? "";
    return new Blob([await this.bytes()], { type });
  }

  async formData(): Promise<FormData> {
    // Multipart parsing is the platform's job: hand the bytes to a real Request.
    const bytes = await this.bytes();
    return new Request(this.url, { method: "POST", headers: this.headers, body: bytes }).formData();
  }

  clone(): Request {
    if (this.bodyUsed) unusable();
    if (this.#body === null) return new Request(this.url, { method: this.method, headers: this.headers, signal: this.signal });
    // Tee the body: this request keeps one branch, the clone gets the other.
    const [a, b] = this.body!.tee();
    this.#stream = a;
    return new Request(this.url, {
      method: this.method,
      headers: this.headers,
      body: b,
      signal: this.signal,
      duplex: "half",
    } as RequestInit);
  }

  get [Symbol.toStringTag](): string {
    return "Request";
  }
}

// instanceof Request holds without touching the global Request.
Object.setPrototypeOf(IncomingRequest.prototype, Request.prototype);

/**
 * A fresh array holding exactly `view`'s bytes. Body bytes are views into
 * the socket's read buffer (a Node or Bun `Buffer`, whose `slice()` does not
 * copy): handing one out would show the handler the rest of that read,
 * other requests' headers included.
 */
function copy(view: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

function clientGone(): Error {
  return new DOMException("The client closed the connection", "AbortError");
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
