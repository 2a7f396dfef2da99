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
const EMPTY = new Uint8Array(0);

/** Throws the TypeError fetch throws for a body read twice. */
function unusable(): never {
  throw new TypeError("Body is unusable: it has already been read");
}

/** A lazily materialized, web-standard request. */
export class IncomingRequest {
  #head: RequestHead;
  #origin: string;
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
   * @param origin `http://host[:port]` to use when the request has no Host
   */
  constructor(head: RequestHead, body: BodySource | null, origin: string) {
    this.#head = head;
    this.#body = body;
    this.#origin = origin;
  }

  get method(): string {
    return this.#head.method;
  }

  get url(): string {
    return (this.#url ??= this.#buildUrl());
  }

  #buildUrl(): string {
    const h = this.#head;
    const buf = h.buf;
    const target = latin1(buf, h.targetStart, h.targetEnd);
    const c = buf[h.targetStart];
    if (c !== 0x2f /* / */ && c !== 0x2a /* * */) return target; // absolute-form
    const origin = h.hostStart === -1 ? this.#origin : "http://" + latin1(buf, h.hostStart, h.hostEnd);
    return c === 0x2a ? origin + "/*" : origin + target;
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
    return (await this.#bytes()).slice();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.#bytes()).slice().buffer;
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
