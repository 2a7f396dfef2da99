/**
 * Turning the handler's `Response` into what the connection writes: "ready
 * bytes" (a fixed body, buffered whole, sent with Content-Length) or "a
 * stream to pump" (a body still producing, sent chunked or with the
 * handler's length). The runtime's fast paths come first: `staticBody` (a
 * fixed body, without making a stream of it) and `peek` (a settled read,
 * without waiting a microtask).
 *
 * @module
 */

import { type Exchange, PENDING, READY, STREAM } from "./exchange.ts";

/**
 * A response body that has not finished within this many microtask hops is
 * streamed (chunked) rather than buffered. Bodies made from a string or
 * bytes finish in one or two hops on every runtime (measured: Node 1, Bun 2,
 * Deno 1; a Blob takes 5 on Deno, and on Node waits for I/O); a producer
 * that waits on I/O does not, and gets its head flushed without waiting.
 * Each waiting response counts its own hops and stops as soon as its read
 * settles, so the common case costs one or two hops, not six.
 */
const SETTLE_HOPS = 6;
/**
 * Longest string body written character by character; a longer one is
 * encoded by the runtime in one call (`encodeInto`, as it is written: see
 * `writeReady`), which beats checking and copying each character in
 * JavaScript past a few hundred (a 1 KiB echo on Bun: bench/cpu_ab.sh
 * SCENARIO=post).
 */
const MAX_COPIED_TEXT = 256;
/** Largest response body gathered before it is sent with Content-Length. */
const MAX_BUFFERED_BODY = 64 * 1024;

const encoder = new TextEncoder();

/** What turning a response needs from the connection and its runtime. */
export interface ResponseTarget {
  /** The transport's `staticBody` fast path, if it has one. */
  readonly staticBody?: ((response: Response) => string | Uint8Array | null) | undefined;
  /** The transport's `responseFields` fast path, if it has one. */
  readonly responseFields?: ((response: Response) => readonly (readonly [string, string])[] | null) | undefined;
  /** The transport's `peek` (a settled promise's value, synchronously), if it has one. */
  readonly peek?: (<T>(promise: Promise<T>) => T | Promise<T>) | undefined;
  /** The transport's `impliedType`, if it has one. */
  readonly impliedType?: ((response: Response) => string | null) | undefined;
  /** The exchange is READY or STREAM now: write what can be written. */
  responseReady(ex: Exchange): void;
  /** The handler's response cannot be served (not a Response, its body failed). */
  handlerFailed(ex: Exchange, error: unknown): void;
}

/**
 * Takes the handler's response for a PENDING exchange: READY at once for a
 * fixed or empty body, else settles the body (READY or STREAM later). An
 * exchange no longer PENDING (already answered, or its connection closed)
 * drops it.
 */
export function takeResponse(ex: Exchange, res: Response, target: ResponseTarget): void {
  if (ex.state !== PENDING) {
    res?.body?.cancel().catch(() => {});
    return;
  }
  if (ex.upgrade === null && ex.refusal !== null && !(typeof res?.status === "number" && res.status >= 400 && res.status < 500)) {
    // A refused handshake gets the RFC's answer (or the 503) unless the
    // handler chose a 4xx of its own; the handler's answer is dropped.
    res?.body?.cancel().catch(() => {});
    res = ex.refusal;
  }
  if (ex.upgrade !== null && (res === undefined || res === null)) {
    // `if (server.upgrade(req)) return;`: the 101 needs no Response.
    ex.status = 101;
    ex.state = READY;
    target.responseReady(ex);
    return;
  }
  // Duck-typed, so a Response from another realm or fetch implementation
  // (an `undici` import, say) is served too.
  if (!(res instanceof Response) && !(typeof (res as Response | null)?.status === "number" && typeof (res as Response).headers?.forEach === "function")) {
    target.handlerFailed(ex, new TypeError(`Handler returned "${String(res)}": expected a Response`));
    return;
  }
  const status = res.status;
  if (status < 200 && ex.upgrade === null) {
    // A 1xx is not a final response (RFC 9110 §15.2): only an upgrade may
    // answer with one, and that is the connection's to write.
    res.body?.cancel().catch(() => {});
    target.handlerFailed(ex, new TypeError(`Handler returned status ${status} without an upgrade`));
    return;
  }
  // Fields before body: Bun builds `headers` on first use and lists the
  // type a URLSearchParams, FormData or typed Blob body implies only while
  // that body has not been turned into a stream. Where the runtime hands
  // over its field list (Deno), no `Headers` is made.
  const fields = target.responseFields?.(res) ?? null;
  if (fields === null) void res.headers;
  ex.fields = fields;
  ex.response = res;
  if (ex.upgrade !== null) {
    // The answer is a 101, with the response's fields and without its body.
    res.body?.cancel().catch(() => {});
    ex.status = 101;
    ex.state = READY;
    target.responseReady(ex);
    return;
  }
  ex.status = status;
  // RFC 9110 §6.4.1: 204 and 304 responses have no content.
  const noContent = status === 204 || status === 304;
  // The implied type before the fixed body: a light Response
  // (src/fetch/light.ts) tells it from the body it is about to give up.
  // Not on HEAD, as from Bun.serve.
  const implied = noContent || target.staticBody === undefined || ex.head.method === "HEAD" ? null : target.impliedType?.(res) ?? null;
  // Ask the runtime first: reading `res.body` would turn a fixed body into
  // a stream (Deno does exactly that), and the fast path would be lost.
  const fixed = noContent ? null : target.staticBody?.(res);
  if (fixed != null) {
    ex.impliedType = implied;
    if (typeof fixed === "string") {
      // Kept as the string: short ASCII ones (most text and JSON bodies) are
      // copied into the output as they are, others encoded into it.
      ex.text = fixed;
      ex.textAscii = fixed.length <= MAX_COPIED_TEXT && isAscii(fixed);
      // Exact once written; until then the UTF-16 length stands in for
      // the bytes owed.
      ex.chunkBytes = fixed.length;
    } else {
      ex.chunks = fixed.length > 0 ? [fixed] : [];
      ex.chunkBytes = fixed.length;
    }
    ex.state = READY;
    target.responseReady(ex);
    return;
  }
  const body = res.body;
  if (body === null || noContent) {
    if (body !== null) body.cancel().catch(() => {});
    ex.state = READY;
    target.responseReady(ex);
    return;
  }
  settle(ex, body, target);
}

/** Reads what the body yields at once; buffers it whole if it ends soon, else streams. */
async function settle(ex: Exchange, body: ReadableStream<Uint8Array>, target: ResponseTarget): Promise<void> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = body.getReader();
  } catch (e) {
    target.handlerFailed(ex, e);
    return;
  }
  ex.reader = reader;
  if (target.impliedType !== undefined) ex.impliedType = target.impliedType(ex.response!);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const peek = target.peek;
  try {
    let read = reader.read();
    while (true) {
      // Has the read finished? Ask the runtime synchronously if it can
      // tell; else wait a few microtask hops (shared by every response
      // settling now) and look. A read still pending then means a real
      // stream: its head goes out at once and the body follows as it comes.
      let r: ReadableStreamReadResult<Uint8Array> | null = null;
      const peeked = peek?.(read);
      if (peeked !== undefined && peeked !== read) r = peeked as ReadableStreamReadResult<Uint8Array>;
      else {
        let failed: { error: unknown } | null = null;
        read.then((x) => (r = x), (error) => (failed = { error }));
        // Give the read up to SETTLE_HOPS microtask hops, stopping as soon
        // as it settles (one or two for fixed bodies on every runtime).
        for (let hop = 0; hop < SETTLE_HOPS && r === null && failed === null; hop++) await undefined;
        if (failed !== null) throw (failed as { error: unknown }).error;
        if (r === null) {
          streamFrom(ex, chunks, bytes, read);
          break;
        }
      }
      // Answered meanwhile (a rejected body), or its connection closed.
      if (ex.state !== PENDING) return;
      r = r as ReadableStreamReadResult<Uint8Array>;
      if (r.done) {
        ex.reader = null;
        ex.chunks = chunks;
        ex.chunkBytes = bytes;
        ex.state = READY;
        break;
      }
      const v = toBytes(r.value);
      if (v.length > 0) {
        chunks.push(v);
        bytes += v.length;
      }
      read = reader.read();
      // Past the limit, a body may still be a fixed one, already whole in
      // memory (a 1 MiB Uint8Array comes as one chunk): if its next read
      // says "done" at once, it goes out with its length, holding nothing
      // more than the producer gave. Else it is streamed.
      if (bytes > MAX_BUFFERED_BODY && !(await endsAtOnce(read, peek))) {
        streamFrom(ex, chunks, bytes, read);
        break;
      }
    }
  } catch (e) {
    if (ex.state === PENDING) {
      ex.reader = null;
      target.handlerFailed(ex, e);
    }
    return;
  }
  target.responseReady(ex);
}

/** True when `read` settles done within SETTLE_HOPS microtask hops (false for a value, or still pending). */
async function endsAtOnce(read: Promise<ReadableStreamReadResult<Uint8Array>>, peek: ResponseTarget["peek"]): Promise<boolean> {
  const peeked = peek?.(read);
  if (peeked !== undefined && peeked !== read) return (peeked as ReadableStreamReadResult<Uint8Array>).done === true;
  let r: ReadableStreamReadResult<Uint8Array> | null = null;
  let failed = false;
  read.then((x) => (r = x), () => (failed = true));
  for (let hop = 0; hop < SETTLE_HOPS && r === null && !failed; hop++) await undefined;
  return (r as ReadableStreamReadResult<Uint8Array> | null)?.done === true;
}

function streamFrom(ex: Exchange, chunks: Uint8Array[], bytes: number, next: Promise<ReadableStreamReadResult<Uint8Array>>): void {
  ex.chunks = chunks;
  ex.chunkBytes = bytes;
  ex.nextRead = next;
  ex.state = STREAM;
  const cl = ex.response!.headers.get("content-length");
  if (cl !== null && /^\d{1,15}$/.test(cl)) ex.fixedLength = Number(cl);
}

/** True when every UTF-16 unit of `s` is ASCII, so its UTF-8 bytes are its char codes. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A body chunk as bytes; a handler's stream may yield strings or other views. */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return encoder.encode(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new TypeError(`Response body chunk "${String(v)}" is not bytes`);
}
