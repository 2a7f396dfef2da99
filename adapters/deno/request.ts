/**
 * The Deno way to make the handler's Request: `transport.makeRequest`.
 *
 * @module
 */

import { BodySource } from "../../src/fetch/body.ts";
import { parseHead, RequestHead } from "../../src/http/parser.ts";
import { resolveOptions } from "../../src/options.ts";
import { ABORT, abortRequest, appendFields, assertCarried, UrlCache } from "../../src/fetch/request.ts";

/**
 * `Deno.serve` hands its handler a real `Request` whose internals are lazy:
 * made from a brand token, it holds an "inner request" (method, a header
 * list and URL decoded on first read, a body, and an `onCancel` hook that
 * aborts its `signal`), and Deno's own `Request` code reads that inner
 * request for everything: getters, `new Request(req, init)`, `clone()`,
 * `fetch(req)`. We make the same: nothing is decoded until asked for, and
 * the request costs about what `Deno.serve`'s does.
 *
 * It reads Deno internals (symbols found on a Request of our own, the inner
 * body's class), so everything is found and checked once, at load, by
 * building a request this way and using it; if this Deno differs, the
 * portable `makeRequest` of `src/fetch/request.ts` is used instead.
 *
 * The rules are the portable ones: no body on GET and HEAD (dropped), a
 * method Deno's `Request` would refuse or change throws (the connection
 * answers 501). Two differences from the portable way, both as with
 * `Deno.serve`: `headers` is immutable, and the URL is not run
 * through Deno's URL parser, so a Host it would refuse (`1.2.3.999`)
 * reaches the handler instead of getting a 400.
 */

type Slots = Record<symbol, unknown>;
type InnerBodyClass = new (body: unknown) => unknown;

interface Internals {
  brand: symbol;
  request: symbol;
  guard: symbol;
  InnerBody: InnerBodyClass;
}

const symbolNamed = (o: object, name: string) => Object.getOwnPropertySymbols(o).find((s) => s.description === name);

let internals: Internals | null = null;

/** The inner request Deno's `Request` code reads, made lazily from our head. */
class Inner {
  method: string;
  body: unknown;
  redirectMode = "follow";
  redirectCount = 0;
  clientRid = null;
  blobUrlEntry = null;
  #head: RequestHead;
  #urls: UrlCache;
  #url: string | undefined = undefined;
  #headerList: [string, string][] | null = null;
  #urlList: (() => string)[] | null = null;
  #processed: string[] | null = null;
  #cancel: (() => void)[] | null = null;
  #cancelled = false;

  constructor(head: RequestHead, body: unknown, urls: UrlCache) {
    this.method = head.method;
    this.body = body;
    this.#head = head;
    this.#urls = urls;
  }

  get headerList(): [string, string][] {
    if (this.#headerList === null) {
      const list: [string, string][] = [];
      appendFields(this.#head, { append: (n: string, v: string) => void list.push([n, v]) } as unknown as Headers);
      this.#headerList = list;
    }
    return this.#headerList;
  }

  set headerList(value: [string, string][]) {
    this.#headerList = value;
  }

  url(): string {
    return (this.#url ??= this.#urls.urlOf(this.#head));
  }

  currentUrl(): string {
    const list = this.#urlList;
    return list === null || list.length === 1 ? this.url() : this.urlListProcessed[list.length - 1] ??= list[list.length - 1]();
  }

  get urlList(): (() => string)[] {
    return (this.#urlList ??= [() => this.url()]);
  }

  get urlListProcessed(): string[] {
    return (this.#processed ??= [this.url()]);
  }

  /** What Deno's `signal` getter calls, once, to learn when to abort. */
  onCancel(callback: () => void): void {
    if (this.#cancelled) callback();
    else (this.#cancel ??= []).push(callback);
  }

  /** The client went away. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const callbacks = this.#cancel;
    this.#cancel = null;
    if (callbacks !== null) for (const c of callbacks) c();
  }
}

/** A Request made from Deno's brand token, as `Deno.serve` makes its own. */
class DenoServerRequest extends Request {
  /** Connection side: the client went away before the response was done. */
  [ABORT](): void {
    ((this as unknown as Slots)[internals!.request] as Inner).cancel();
  }
}


/** `transport.makeRequest` on Deno (see the module comment). */
function denoRequest(head: RequestHead, body: BodySource | null, urls: UrlCache): Request {
  const i = internals!;
  const method = head.method;
  assertCarried(method);
  let inner: unknown = null;
  if (body !== null) {
    if (method === "GET" || method === "HEAD") body.drop();
    else if (body.complete) {
      // A copy: the bytes are a view into the socket's read buffer.
      inner = new i.InnerBody({ body: (body.all() as Uint8Array).slice(), consumed: false });
    } else inner = new i.InnerBody(body.stream());
  }
  const request = new (DenoServerRequest as unknown as new (brand: symbol) => Request)(i.brand) as unknown as Slots;
  request[i.request] = new Inner(head, inner, urls);
  // Deno.serve's request headers are immutable too (Node's and Bun's are not).
  request[i.guard] = "immutable";
  return request as unknown as Request;
}

/** Finds Deno's internals on a Request of our own; null when any is missing. */
function probe(): Internals | null {
  try {
    const sample = new Request("http://a/", { method: "POST", body: "x" });
    const brand = symbolNamed(sample, "[[webidl.brand]]");
    const request = symbolNamed(sample, "request");
    const guard = symbolNamed(sample, "headers guard");
    if (brand === undefined || request === undefined || guard === undefined) return null;
    const InnerBody = ((sample as unknown as Slots)[request] as { body?: { constructor?: unknown } }).body?.constructor;
    if (typeof InnerBody !== "function") return null;
    return { brand, request, guard, InnerBody: InnerBody as InnerBodyClass };
  } catch {
    return null;
  }
}

/** Builds requests the Deno way from a head of our own and checks what the web APIs see of them. */
function verify(): boolean {
  const bytes = new TextEncoder().encode("POST /p?q=1 HTTP/1.1\r\nHost: a.test\r\nX-A:  1 \r\nContent-Length: 2\r\n\r\nhi");
  const head = new RequestHead();
  if (parseHead(bytes, 0, bytes.length - 2, head, resolveOptions({ fetch: () => new Response() })) !== 0) return false;
  const urls = new UrlCache("http://127.0.0.1:1");
  const r = denoRequest(head, BodySource.of(bytes.subarray(bytes.length - 2)), urls);
  if (!(r instanceof Request) || r.method !== "POST" || r.url !== "http://a.test/p?q=1" || r.bodyUsed || r.body === null) return false;
  if (r.headers.get("x-a") !== "1" || r.headers.get("host") !== "a.test") return false;
  const copy = new Request(r, { headers: { "x-b": "2" } });
  if (copy.method !== "POST" || copy.url !== r.url || copy.headers.get("x-b") !== "2" || copy.body === null) return false;
  const r2 = denoRequest(head, BodySource.of(bytes.subarray(bytes.length - 2)), urls);
  const c = r2.clone();
  if (c.url !== r.url || c.headers.get("x-a") !== "1") return false;
  const signal = r2.signal;
  if (signal.aborted) return false;
  abortRequest(r2);
  return signal.aborted;
}

/**
 * `transport.makeRequest` for Deno, or undefined (the portable one) when
 * this Deno's internals are not the ones `verify` expects.
 */
export const denoMakeRequest: ((head: RequestHead, body: BodySource | null, urls: UrlCache) => Request) | undefined = (() => {
  internals = probe();
  if (internals === null) return undefined;
  try {
    if (verify()) return denoRequest;
  } catch {
    // this Deno differs: the portable way
  }
  internals = null;
  return undefined;
})();
