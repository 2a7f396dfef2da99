/**
 * One client connection: reads bytes, parses pipelined requests, calls the
 * handler, and writes responses strictly in request order, batching those
 * that are ready together into one socket write.
 *
 * States (see {@linkcode ConnectionState}): `idle` between requests,
 * `reading` while a head or body is arriving, `processing` while handlers
 * run, `writing` while the peer is not draining, `closing` once no further
 * request will be read.
 *
 * @module
 */

import type { Socket, SocketEvents } from "./socket.ts";
import type { ExecutionContext, ResolvedOptions } from "./options.ts";
import { BodySource, type BodyOwner } from "./fetch/body.ts";
import { IncomingRequest, UrlCache } from "./fetch/request.ts";
import { type ConnInfo, connInfo } from "./fetch/conn_info.ts";
import {
  findHeadEnd,
  HEAD_ERROR,
  MAX_EMPTY_LINES,
  HEAD_INCOMPLETE,
  type HeadScan,
  parseHead,
  RequestHead,
  resetScan,
} from "./http/parser.ts";
import { ChunkedDecoder } from "./http/chunked.ts";
import { type ErrorResponse, errorResponse, messageOf, ParseError } from "./http/errors.ts";
import { chunkHeader, INVALID_RESPONSE, OutBuffer, scratch, statusLine } from "./http/writer.ts";
import { dateLine } from "./http/date.ts";
import { CR, fieldNameKind, isFieldValue, LF, NAME_INVALID, NAME_LOWER } from "./http/chars.ts";
import type { Admission, Job } from "./backpressure.ts";
import type { StatsCounters } from "./stats.ts";

/** Where a connection is in its life; see the module doc. */
export type ConnectionState = "idle" | "reading" | "processing" | "writing" | "closing";

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  readonly runtime: string;
  readonly ctx: ExecutionContext;
  /** The transport's `staticBody` fast path, if it has one. */
  readonly staticBody?: ((response: Response) => string | Uint8Array | null) | undefined;
  /** The transport's `peek` (a settled promise's value, synchronously), if it has one. */
  readonly peek?: (<T>(promise: Promise<T>) => T | Promise<T>) | undefined;
  /** True once graceful shutdown began. */
  readonly closing: boolean;
  /** Counters to bump. */
  readonly counters: StatsCounters;
  /** True while the server as a whole must not read (overload, `slow_down`). */
  readonly gated: boolean;
  /** A request is parsed: may it run now? */
  admit(job: Job): Admission;
  /** An admitted request is over (answered or abandoned). */
  requestDone(): void;
  /** A queued request will never run (its connection closed). */
  forget(job: Job): void;
  /** The handler threw; returns the response to send. */
  handlerFailed(error: unknown): Response | Promise<Response>;
  /** The socket is gone. */
  connectionClosed(conn: Connection): void;
}

// Exchange states.
const PENDING = 0; // handler or response body still running
const READY = 1; // whole response known: head + body bytes
const STREAM = 2; // head known, body is a stream still producing
const STREAMING = 3; // head written, body being pumped
const DONE = 4;

// Body framing of the request being received.
const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;

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
/** Largest response body gathered before it is sent with Content-Length. */
const MAX_BUFFERED_BODY = 64 * 1024;
/** At most this many bytes of an unread request body are drained to keep the connection. */
const MAX_DRAIN_BYTES = 256 * 1024;
/** How long a connection we ended may wait for the peer's FIN before it is cut. */
const LINGER_MS = 5000;


const CRLF = new Uint8Array([CR, LF]);
const EMPTY_BYTES = new Uint8Array(0);
const LAST_CHUNK = new Uint8Array([0x30, CR, LF, CR, LF]);
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const encoder = new TextEncoder();

// Response fields are written by one module-level callback rather than a
// closure per response; a flush runs start to end, so the state is safe here.
let fieldOut: OutBuffer = scratch;
let fieldHasDate = false;
let fieldClose = false;
/** A field (or the status) that cannot go on the wire: the response is replaced by a 500. */
let fieldBad = false;
function writeField(value: string, name: string): void {
  const kind = fieldNameKind(name);
  if (kind !== NAME_LOWER) {
    if (kind === NAME_INVALID) fieldBad = true;
    else name = name.toLowerCase(); // a duck-typed Headers: framing fields are still ours
  }
  if (!isFieldValue(value)) fieldBad = true;
  if (fieldBad) return;
  switch (name) {
    // Framing is ours to decide: the handler's values would contradict it.
    case "connection":
      // ...but a handler that asks to close gets its close.
      if (/(^|[\s,])close($|[\s,])/i.test(value)) fieldClose = true;
      return;
    case "content-length":
    case "transfer-encoding":
    case "keep-alive":
      return;
    case "date":
      fieldHasDate = true;
  }
  fieldOut.latin1(name);
  fieldOut.latin1(": ");
  fieldOut.latin1(value);
  fieldOut.crlf();
}

/** One request and the response to it; also its ticket for admission. */
class Exchange implements Job {
  state = PENDING;
  conn: Connection;
  /** Admitted by the backpressure manager (and so counted in flight). */
  admitted = false;
  /** Waiting in the backpressure manager's queue. */
  queued = false;
  priority = 0;
  /** performance.now() when the head was parsed. */
  startedAt = 0;
  head: RequestHead;
  request: IncomingRequest | null = null;
  body: BodySource | null;
  response: Response | null = null;
  status = 0;
  /** Buffered response body (READY) or its first chunks (STREAM). */
  chunks: Uint8Array[] | null = null;
  /** A buffered ASCII body kept as the string it came as (READY only). */
  text: string | null = null;
  chunkBytes = 0;
  reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** A read started while settling, to be continued by the pump. */
  nextRead: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  /** A prebuilt error answer instead of the handler's. */
  error: ErrorResponse | null = null;
  /** Close the connection after this response. */
  close: boolean;
  /** Send `100 Continue` once this exchange reaches the front. */
  continuePending = false;
  /** The request body is still arriving. */
  receiving = false;
  /** Raw length framing asked by the handler for a streamed body. */
  fixedLength = -1;

  constructor(conn: Connection, head: RequestHead, body: BodySource | null) {
    this.conn = conn;
    this.head = head;
    this.body = body;
    this.close = !head.keepAlive;
  }

  admit(): void {
    this.queued = false;
    this.admitted = true;
    this.conn.run(this);
  }

  refuse(): void {
    this.queued = false;
    this.conn.refuse(this);
  }
}

const OVERLOADED_BODY = "Service Unavailable: server busy, retry later\n";
const overloadedCache = new Map<number, { head: Uint8Array; tail: Uint8Array }>();
/** 503 for refused work; the connection stays open (its framing is intact). */
function overloaded(retryAfterSeconds: number): ErrorResponse {
  let r = overloadedCache.get(retryAfterSeconds);
  if (r === undefined) {
    r = {
      head: encoder.encode("HTTP/1.1 503 Service Unavailable\r\n"),
      tail: encoder.encode(
        `Retry-After: ${retryAfterSeconds}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${OVERLOADED_BODY.length}\r\n\r\n${OVERLOADED_BODY}`,
      ),
    };
    overloadedCache.set(retryAfterSeconds, r);
  }
  return { status: 503, head: r.head, tail: r.tail, keepsConnection: true };
}

/** The bytes that refuse a whole connection over `maxConnections`. */
export function refusedConnectionBytes(retryAfterSeconds: number): Uint8Array {
  const r = overloaded(retryAfterSeconds);
  const date = dateLine();
  const closeLine = encoder.encode("Connection: close\r\n");
  const out = new Uint8Array(r.head.length + date.length + closeLine.length + r.tail.length);
  out.set(r.head, 0);
  out.set(date, r.head.length);
  out.set(closeLine, r.head.length + date.length);
  out.set(r.tail, r.head.length + date.length + closeLine.length);
  return out;
}

/** One accepted socket, from its first byte to its close. */
export class Connection implements SocketEvents, BodyOwner {
  readonly socket: Socket;
  #host: ConnectionHost;
  #options: ResolvedOptions;
  #info: ConnInfo | null = null;
  /** Unparsed bytes (a partial head, or requests beyond the pipelining limit). */
  #pending: Uint8Array | null = null;
  #scan: HeadScan = { pos: 0, lineStart: 0, pastRequestLine: false, error: 0, emptyLines: 0 };
  #bodyMode = BODY_NONE;
  #bodyRemaining = 0;
  #bodyExchange: Exchange | null = null;
  #chunked: ChunkedDecoder | null = null;
  #queue: Exchange[] = [];
  /** Reasons reading is paused; the socket reads only when none holds. */
  #pausedForBody = false;
  #pausedForPipeline = false;
  #pausedForWrite = false;
  #socketPaused = false;
  /** No further request will be parsed. */
  #ending = false;
  #peerEnded = false;
  #closed = false;
  #writeBlocked = false;
  #drainWaiters: (() => void)[] = [];
  #flushScheduled = false;
  /** data() is running: responses ready now are flushed when it returns. */
  #inData = false;
  #flushAfterData = false;
  /** When the connection last made progress (performance.now() ms). */
  lastActive: number;
  /** When the current, incomplete head started arriving (ms), or 0. */
  #headStarted = 0;
  /** A head's scan is under way (`#scan` is live). */
  #scanning = false;
  /** Empty lines skipped before the current request line. */
  #emptyLines = 0;
  /** Requests answered on this connection. */
  requestCount = 0;
  /** Body bytes received for the request being read (rate check). */
  #bodyReceived = 0;
  /** When the current request body started arriving (ms), or 0. */
  #bodyStarted = 0;
  /** Time spent paused for body backpressure while receiving (ms); excluded from the rate. */
  #bodyPausedMs = 0;
  #bodyPausedAt = 0;
  #writeBlockedSince = 0;
  /** Clock reading shared by the responses finished in one flush (0: not read yet). */
  #finishedAt = 0;
  /** The Date line for the flush in progress. */
  #date: Uint8Array = EMPTY_BYTES;
  /** When we called socket.end() (ms), or 0. */
  #endedAt = 0;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#options = host.options;
    this.lastActive = performance.now();
  }

  /** The state, for statistics and tests. */
  get state(): ConnectionState {
    if (this.#closed || (this.#ending && this.#queue.length === 0)) return "closing";
    if (this.#writeBlocked) return "writing";
    if (this.#queue.length > 0) return "processing";
    if (this.#pending !== null || this.#bodyMode !== BODY_NONE) return "reading";
    return "idle";
  }

  // ---- socket events ---------------------------------------------------

  data(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.lastActive = performance.now();
    this.#host.counters.bytesIn += chunk.length;
    if (this.#bodyMode !== BODY_NONE) this.#bodyReceived += chunk.length;
    if (this.#ending && this.#bodyMode === BODY_NONE) return; // nothing more will be read
    let buf = chunk;
    const pending = this.#pending;
    if (pending !== null) {
      buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending, 0);
      buf.set(chunk, pending.length);
      this.#pending = null;
    }
    this.#inData = true;
    try {
      this.#process(buf, 0);
    } finally {
      this.#inData = false;
    }
    // Handlers that answered synchronously with a fixed body are ready now:
    // write them in this turn, without waiting for a microtask.
    if (this.#flushAfterData) {
      this.#flushAfterData = false;
      this.#flush();
    }
  }

  drain(): void {
    this.#writeBlocked = false;
    const waiters = this.#drainWaiters;
    if (waiters.length > 0) {
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
    if (this.#pausedForWrite) {
      this.#pausedForWrite = false;
      this.#updateReading();
    }
    this.#flush();
  }

  end(): void {
    // The peer sent FIN. Like node:http, treat it as the client going away:
    // in-flight requests see their signal abort. Responses that still get
    // produced are written before we close, for clients that half-close
    // after sending (printf | nc).
    this.#peerEnded = true;
    this.#ending = true;
    const bex = this.#bodyExchange;
    if (bex !== null) {
      // The body can never complete now: it is the client's error (RFC 9112
      // §8), so answer 400 rather than let the handler's failure become a 500.
      if (bex.state === PENDING) {
        bex.reader?.cancel().catch(() => {});
        bex.reader = null;
        bex.error = errorResponse(ParseError.INCOMPLETE_BODY);
        bex.status = bex.error.status;
        bex.state = READY;
        this.#scheduleFlush();
      }
      bex.body?.fail(new Error(`Request body failed: ${messageOf(ParseError.INCOMPLETE_BODY)}`));
      bex.close = true;
      this.#bodyMode = BODY_NONE;
      this.#bodyExchange = null;
      this.#bodyStarted = 0;
    }
    for (const ex of this.#queue) ex.request?.abort();
    if (this.#queue.length === 0) this.#end();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ending = true;
    const gone = new Error("The client closed the connection");
    for (const ex of this.#queue) {
      ex.request?.abort();
      if (ex.body !== null && !ex.body.complete) ex.body.fail(gone);
      if (ex.reader !== null) ex.reader.cancel(gone).catch(() => {});
      else if (ex.response?.body && !ex.response.bodyUsed) ex.response.body.cancel(gone).catch(() => {});
      if (ex.state !== DONE) {
        this.#host.counters.aborted++;
        this.#finish(ex, false);
      }
    }
    this.#queue.length = 0;
    for (const w of this.#drainWaiters) w();
    this.#drainWaiters = [];
    this.#host.connectionClosed(this);
  }

  // ---- body owner ------------------------------------------------------

  bodyWanted(): void {
    const ex = this.#bodyExchange;
    if (ex !== null && ex.head.expectContinue && !ex.continuePending) {
      ex.continuePending = true;
      if (this.#queue[0] === ex) this.#sendContinue(ex);
    }
  }

  bodyDrained(): void {
    const ex = this.#bodyExchange;
    if (this.#pausedForBody && (ex === null || ex.body === null || ex.body.collecting || ex.body.queuedBytes <= this.#options.highWaterMarkBytes)) {
      this.#pausedForBody = false;
      this.#updateReading();
    }
  }

  // ---- reading and parsing ---------------------------------------------

  /** The server's reading gate changed (`slow_down`). */
  gateChanged(): void {
    this.#updateReading();
  }

  #updateReading(): void {
    const paused = this.#pausedForBody || this.#pausedForPipeline || this.#pausedForWrite || this.#host.gated;
    if (paused !== this.#socketPaused && !this.#closed) {
      this.#socketPaused = paused;
      if (this.#bodyStarted !== 0) {
        // Time we refused to read does not count against the client's rate.
        if (paused) this.#bodyPausedAt = performance.now();
        else if (this.#bodyPausedAt !== 0) {
          this.#bodyPausedMs += performance.now() - this.#bodyPausedAt;
          this.#bodyPausedAt = 0;
        }
      }
      if (paused) this.socket.pause();
      else this.socket.resume();
    }
  }

  #process(buf: Uint8Array, i: number): void {
    const end = buf.length;
    const options = this.#options;
    while (i < end) {
      if (this.#bodyMode !== BODY_NONE) {
        i = this.#consumeBody(buf, i, end);
        if (i < 0) return;
        continue;
      }
      if (this.#ending) return;
      if (this.#queue.length >= options.maxPipelinedRequests) {
        // Enough work queued: keep the rest unparsed and stop reading until
        // responses go out.
        this.#pending = buf.subarray(i);
        this.#pausedForPipeline = true;
        this.#updateReading();
        return;
      }
      const scan = this.#scan;
      // Any byte of a new head, empty lines included, starts the headers clock.
      if (this.#headStarted === 0) this.#headStarted = this.lastActive;
      if (!this.#scanning) {
        // RFC 9112 §2.2: ignore empty lines before a request line; a few,
        // not an endless stream of them.
        while (i + 1 < end && buf[i] === CR && buf[i + 1] === LF) {
          i += 2;
          if (++this.#emptyLines > MAX_EMPTY_LINES) {
            this.#reject(ParseError.INVALID_REQUEST_LINE);
            return;
          }
        }
        if (i >= end) break;
        resetScan(scan, i);
        scan.emptyLines = this.#emptyLines;
        this.#scanning = true;
      }
      const headEnd = findHeadEnd(buf, i, end, scan, options);
      if (headEnd === HEAD_INCOMPLETE) {
        // Keep the partial head; rebase the scan onto the kept bytes.
        scan.pos -= i;
        scan.lineStart -= i;
        this.#pending = buf.subarray(i);
        return;
      }
      if (headEnd === HEAD_ERROR) {
        this.#reject(scan.error);
        return;
      }
      this.#headStarted = 0;
      this.#scanning = false;
      this.#emptyLines = 0;
      const head = new RequestHead();
      const code = parseHead(buf, i, headEnd, head, options);
      if (code !== ParseError.NONE) {
        this.#reject(code);
        return;
      }
      i = headEnd;
      let body: BodySource | null = null;
      let receiving = false;
      if (head.chunked) {
        body = new BodySource(this);
        this.#chunked ??= new ChunkedDecoder(options.maxBodyBytes, options.maxHeaderBytes);
        this.#chunked.reset(options.maxBodyBytes);
        this.#bodyMode = BODY_CHUNKED;
        receiving = true;
        this.#startBodyClock(end - i);
      } else if (head.contentLength > 0) {
        const length = head.contentLength;
        if (length > options.maxBodyBytes) {
          this.#reject(ParseError.BODY_TOO_LARGE);
          return;
        }
        if (end - i >= length) {
          // The whole body came with the head: the common case for small POSTs.
          body = BodySource.of(buf.subarray(i, i + length));
          i += length;
        } else {
          body = new BodySource(this);
          this.#bodyMode = BODY_LENGTH;
          this.#bodyRemaining = length;
          receiving = true;
          this.#startBodyClock(end - i);
        }
      }
      const ex = new Exchange(this, head, body);
      ex.receiving = receiving;
      if (receiving) this.#bodyExchange = ex;
      if (ex.close || this.#host.closing) {
        ex.close = true;
        this.#ending = true;
      }
      this.#queue.push(ex);
      this.#admit(ex);
    }
    this.#pending = null;
  }

  /** Feeds request-body bytes; returns where it stopped, or -1 after a rejection. */
  #consumeBody(buf: Uint8Array, i: number, end: number): number {
    const ex = this.#bodyExchange!;
    const body = ex.body!;
    if (this.#bodyMode === BODY_LENGTH) {
      const n = Math.min(this.#bodyRemaining, end - i);
      body.push(buf.subarray(i, i + n));
      i += n;
      this.#bodyRemaining -= n;
      if (this.#bodyRemaining === 0) this.#bodyComplete(ex);
    } else {
      const decoder = this.#chunked!;
      i = decoder.decode(buf, i, end, (b, s, e) => body.push(b.subarray(s, e)));
      if (i < 0) {
        this.#rejectBody(ex, decoder.error);
        return -1;
      }
      if (decoder.done) this.#bodyComplete(ex);
    }
    if (!body.discarding && !body.collecting && body.queuedBytes > this.#options.highWaterMarkBytes) {
      this.#pausedForBody = true;
      this.#updateReading();
    }
    return i;
  }

  #startBodyClock(alreadyHere: number): void {
    this.#bodyStarted = this.lastActive;
    this.#bodyReceived = alreadyHere;
    this.#bodyPausedMs = 0;
    this.#bodyPausedAt = 0;
  }

  #bodyComplete(ex: Exchange): void {
    this.#bodyMode = BODY_NONE;
    this.#bodyStarted = 0;
    this.#bodyExchange = null;
    ex.receiving = false;
    ex.body!.end();
    if (this.#pausedForBody) {
      this.#pausedForBody = false;
      this.#updateReading();
    }
    // The response may already be out, waiting for the body to drain.
    if (ex.state === DONE) this.#afterExchange();
  }

  /** The head (or framing) is bad: answer after what is already queued, then close. */
  #reject(code: number): void {
    this.#ending = true;
    this.#pending = null;
    this.#headStarted = 0;
    const ex = new Exchange(this, new RequestHead(), null);
    ex.error = errorResponse(code);
    ex.status = ex.error.status;
    ex.close = true;
    ex.state = READY;
    ex.startedAt = performance.now();
    this.#queue.push(ex);
    this.#host.counters.requestsTotal++;
    this.#flush();
  }

  /** A body in progress turned out malformed or too large. */
  #rejectBody(ex: Exchange, code: number): void {
    this.#ending = true;
    this.#bodyMode = BODY_NONE;
    this.#bodyStarted = 0;
    this.#bodyExchange = null;
    ex.body?.fail(new Error(`Request body failed: ${messageOf(code)}`));
    if (ex.state === STREAMING || ex.state === DONE) {
      // Part of a response is on the wire already: all we can do is cut.
      this.socket.destroy();
      return;
    }
    ex.response?.body?.cancel().catch(() => {});
    ex.reader?.cancel().catch(() => {});
    ex.reader = null;
    ex.error = errorResponse(code);
    ex.status = ex.error.status;
    ex.close = true;
    ex.state = READY;
    this.#flush();
  }

  /** Called by the server's sweep about once a second. */
  sweep(now: number): "timeout" | "idle" | null {
    if (this.#closed) return null;
    const o = this.#options;
    if (this.#endedAt !== 0) {
      // We sent FIN and wait for the peer's; a peer that never sends it
      // must not hold the socket forever.
      if (now - this.#endedAt > LINGER_MS) this.socket.destroy();
      return null;
    }
    // Slowloris: a head that takes too long to arrive.
    if (this.#headStarted !== 0 && this.#queue.length === 0 && now - this.#headStarted > o.headersTimeoutMs) {
      this.#reject(ParseError.REQUEST_TIMEOUT);
      return "timeout";
    }
    const bex = this.#bodyExchange;
    if (bex !== null && this.#bodyStarted !== 0) {
      // Slow POST: a body that takes too long, or arrives too slowly, while
      // we are willing to read it.
      const elapsed = now - this.#bodyStarted;
      let pausedMs = this.#bodyPausedMs;
      if (this.#bodyPausedAt !== 0) pausedMs += now - this.#bodyPausedAt;
      const active = elapsed - pausedMs;
      const tooSlow = o.minBodyBytesPerSecond > 0 && active > o.headersTimeoutMs &&
        this.#bodyReceived < (o.minBodyBytesPerSecond * active) / 1000;
      if (elapsed > o.requestTimeoutMs || tooSlow) {
        this.#rejectBody(bex, ParseError.REQUEST_TIMEOUT);
        return "timeout";
      }
    }
    // A peer that takes none of our bytes for too long.
    if (this.#writeBlocked && now - this.#writeBlockedSince > o.writeTimeoutMs) {
      this.socket.destroy();
      return "timeout";
    }
    if (this.state === "idle" && now - this.lastActive > o.keepAliveTimeoutMs) {
      this.#end();
      return "idle";
    }
    return null;
  }

  /** Sends FIN once; the sweep destroys the socket if the peer never answers it. */
  #end(): void {
    this.#ending = true;
    if (this.#endedAt === 0) {
      this.#endedAt = performance.now();
      this.socket.end();
    }
  }

  /** Graceful shutdown: finish what was received, then close. */
  shutdown(): void {
    if (this.#closed) return;
    this.#ending = true;
    // Everything already received is answered; the last answer says
    // Connection: close, and the connection ends after it.
    const last = this.#queue[this.#queue.length - 1];
    if (last === undefined) this.#end();
    else last.close = true;
  }

  /** Forced close at the shutdown deadline. */
  destroy(): void {
    if (!this.#closed) this.socket.destroy();
  }

  /** Requests received but not yet answered. */
  get inFlight(): number {
    return this.#queue.length;
  }

  // ---- handler ---------------------------------------------------------

  #admit(ex: Exchange): void {
    const host = this.#host;
    host.counters.requestsTotal++;
    ex.startedAt = this.lastActive;
    ex.request = new IncomingRequest(ex.head, ex.body, this.#urlCache());
    const priority = host.options.priority;
    if (priority !== undefined) {
      try {
        ex.priority = priority(ex.request as unknown as Request);
      } catch {
        ex.priority = 0;
      }
    }
    const decision = host.admit(ex);
    if (decision === "run") {
      ex.admitted = true;
      this.run(ex);
    } else if (decision === "queued") {
      ex.queued = true;
    } else {
      this.refuse(ex);
    }
  }

  /** Backpressure refused this request: 503, and the connection goes on. */
  refuse(ex: Exchange): void {
    if (ex.state !== PENDING || this.#closed) return;
    ex.error = overloaded(this.#options.retryAfterSeconds);
    ex.status = 503;
    ex.state = READY;
    this.#scheduleFlush();
  }

  /** Calls the handler (the request was admitted). */
  run(ex: Exchange): void {
    if (this.#closed || ex.state !== PENDING) {
      // Its connection is gone: give the slot back at once.
      if (ex.admitted) {
        ex.admitted = false;
        this.#host.requestDone();
      }
      return;
    }
    const host = this.#host;
    const request = ex.request!;
    let result: Response | Promise<Response>;
    try {
      result = host.options.fetch(request as unknown as Request, this.#env(), host.ctx);
    } catch (e) {
      result = host.handlerFailed(e);
    }
    if (result !== null && typeof (result as Promise<Response>)?.then === "function") {
      (result as Promise<Response>).then(
        (r) => this.#respond(ex, r),
        (e) => this.#failed(ex, e),
      );
    } else this.#respond(ex, result as Response); // checks what it was given
  }

  #failed(ex: Exchange, error: unknown): void {
    // Already answered by the server (a rejected body, a timeout): the
    // handler's failure is a consequence, not news.
    if (ex.state !== PENDING || this.#closed) return;
    let r: Response | Promise<Response>;
    try {
      r = this.#host.handlerFailed(error);
    } catch (e) {
      r = new Response("Internal Server Error", { status: 500 });
    }
    Promise.resolve(r).then(
      (res) => this.#respond(ex, res),
      () => this.#respond(ex, new Response("Internal Server Error", { status: 500 })),
    );
  }

  #urls: UrlCache | null = null;
  /** The connection's URL cache, made on its first request. */
  #urlCache(): UrlCache {
    if (this.#urls === null) {
      const s = this.socket;
      const a = s.localAddress;
      this.#urls = new UrlCache("http://" + (a.includes(":") ? `[${a}]` : a) + ":" + s.localPort);
    }
    return this.#urls;
  }

  #env(): ConnInfo {
    const s = this.socket;
    return (this.#info ??= connInfo(s.remoteAddress, s.remotePort, s.localAddress, s.localPort, this.#host.runtime));
  }

  #respond(ex: Exchange, res: Response): void {
    if (ex.state !== PENDING) {
      // Already answered (a rejected body): drop the handler's response.
      res?.body?.cancel().catch(() => {});
      return;
    }
    if (this.#closed) {
      res?.body?.cancel().catch(() => {});
      return;
    }
    // Duck-typed, so a Response from another realm or fetch implementation
    // (an `undici` import, say) is served too.
    if (!(res instanceof Response) && !(typeof (res as Response | null)?.status === "number" && typeof (res as Response).headers?.forEach === "function")) {
      this.#failed(ex, new TypeError(`Handler returned "${String(res)}": expected a Response`));
      return;
    }
    ex.response = res;
    const status = res.status;
    ex.status = status;
    // RFC 9110 §6.4.1: 1xx, 204 and 304 responses have no content.
    const noContent = status === 204 || status === 304 || status < 200;
    // Ask the runtime first: reading `res.body` would turn a fixed body into
    // a stream (Deno does exactly that), and the fast path would be lost.
    const fixed = noContent ? null : this.#host.staticBody?.(res);
    if (fixed != null) {
      if (typeof fixed === "string" && isAscii(fixed)) {
        // Most text and JSON bodies: written straight into the output, no copy.
        ex.text = fixed;
        ex.chunkBytes = fixed.length;
      } else {
        const bytes = typeof fixed === "string" ? encoder.encode(fixed) : fixed;
        ex.chunks = bytes.length > 0 ? [bytes] : [];
        ex.chunkBytes = bytes.length;
      }
      ex.state = READY;
      this.#scheduleFlush();
      return;
    }
    const body = res.body;
    if (body === null || noContent) {
      if (body !== null) body.cancel().catch(() => {});
      ex.state = READY;
      this.#scheduleFlush();
      return;
    }
    this.#settle(ex, body);
  }

  /** Reads what the body yields at once; buffers it whole if it ends soon, else streams. */
  async #settle(ex: Exchange, body: ReadableStream<Uint8Array>): Promise<void> {
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = body.getReader();
    } catch (e) {
      this.#failed(ex, e);
      return;
    }
    ex.reader = reader;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const peek = this.#host.peek;
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
            this.#streamFrom(ex, chunks, bytes, read);
            break;
          }
        }
        if (ex.state !== PENDING || this.#closed) return;
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
        if (bytes > MAX_BUFFERED_BODY) {
          this.#streamFrom(ex, chunks, bytes, read);
          break;
        }
      }
    } catch (e) {
      if (ex.state === PENDING && !this.#closed) {
        ex.reader = null;
        this.#failed(ex, e);
      }
      return;
    }
    this.#scheduleFlush();
  }

  #streamFrom(ex: Exchange, chunks: Uint8Array[], bytes: number, next: Promise<ReadableStreamReadResult<Uint8Array>>): void {
    ex.chunks = chunks;
    ex.chunkBytes = bytes;
    ex.nextRead = next;
    ex.state = STREAM;
    const cl = ex.response!.headers.get("content-length");
    if (cl !== null && /^\d{1,15}$/.test(cl)) ex.fixedLength = Number(cl);
  }

  // ---- writing ---------------------------------------------------------

  #scheduleFlush(): void {
    // Inside data(), the flush at its end will pick this response up: no
    // microtask needed (one fewer per request on the keep-alive path).
    if (this.#inData) {
      this.#flushAfterData = true;
      return;
    }
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** `100 Continue` on its own write (never called while a flush is building). */
  #sendContinue(ex: Exchange): void {
    if (ex.state === PENDING && ex.continuePending && !this.#closed) {
      this.#sendContinueInto(scratch, ex);
      this.#write(scratch.take());
    }
  }

  /** Writes every response at the front of the queue that is ready, in one write. */
  #flush(): void {
    if (this.#closed || this.#writeBlocked) return;
    // One clock read per flush, shared by the responses it writes.
    this.#finishedAt = 0;
    this.#date = dateLine();
    const queue = this.#queue;
    const out = scratch;
    let closeAfter = false;
    let streamEx: Exchange | null = null;
    let finished = 0;
    while (finished < queue.length) {
      const ex = queue[finished];
      if (ex.state === READY) {
        this.#serialize(out, ex);
        finished++;
        if (ex.close) {
          closeAfter = true;
          break;
        }
        continue;
      }
      if (ex.state === STREAM) {
        if (!this.#serializeStreamStart(out, ex)) {
          finished++; // answered with a 500: like a READY response
          if (ex.close) {
            closeAfter = true;
            break;
          }
          continue;
        }
        ex.state = STREAMING;
        streamEx = ex;
        break;
      }
      if (ex.state === PENDING && ex.continuePending) this.#sendContinueInto(out, ex);
      break;
    }
    for (let k = 0; k < finished; k++) this.#finish(queue[k], true);
    if (finished > 0) queue.splice(0, finished);
    if (out.length > 0) this.#write(out.take());
    if (closeAfter) {
      this.#closeAfterWrite();
      return;
    }
    if (finished > 0) this.#afterExchange();
    if (streamEx !== null) this.#pump(streamEx);
  }

  /** The one place an exchange ends: counters, admission slot, state. */
  #finish(ex: Exchange, answered: boolean): void {
    ex.state = DONE;
    if (ex.queued) {
      ex.queued = false;
      this.#host.forget(ex);
    }
    if (ex.admitted) {
      ex.admitted = false;
      this.#host.requestDone();
    }
    if (answered) {
      this.requestCount++;
      this.#host.counters.record(ex.status, (this.#finishedAt ||= performance.now()) - ex.startedAt);
    }
  }

  #sendContinueInto(out: OutBuffer, ex: Exchange): void {
    ex.continuePending = false;
    ex.head.expectContinue = false;
    out.bytes(CONTINUE);
  }

  /** After a response went out: drain the leftover body, and read again. */
  #afterExchange(): void {
    const bex = this.#bodyExchange;
    if (bex !== null && bex.state === DONE) {
      // Its response is out but the body is still coming: throw it away,
      // unless there is too much of it to be worth reading.
      const body = bex.body!;
      if (!body.discarding) {
        body.discard();
        if (this.#bodyMode === BODY_CHUNKED || this.#bodyRemaining > MAX_DRAIN_BYTES) {
          this.#ending = true;
          this.#end();
          return;
        }
      }
      if (this.#pausedForBody) {
        this.#pausedForBody = false;
        this.#updateReading();
      }
      return;
    }
    if (this.#queue.length === 0 && (this.#peerEnded || (this.#ending && this.#bodyMode === BODY_NONE))) {
      this.#end();
      return;
    }
    if (this.#pausedForPipeline && this.#queue.length < this.#options.maxPipelinedRequests) {
      this.#pausedForPipeline = false;
      const pending = this.#pending;
      this.#pending = null;
      this.#updateReading();
      if (pending !== null) this.#process(pending, 0);
    }
    const front = this.#queue[0];
    if (front !== undefined && front.continuePending) this.#sendContinue(front);
  }

  #closeAfterWrite(): void {
    for (const ex of this.#queue) {
      ex.reader?.cancel().catch(() => {});
      ex.request?.abort();
    }
    this.#queue.length = 0;
    this.#ending = true;
    this.#end();
  }

  #write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#host.counters.bytesOut += bytes.length;
    if (!this.socket.write(bytes)) {
      this.#writeBlocked = true;
      this.#writeBlockedSince = this.lastActive = performance.now();
      // Write-side backpressure: stop reading requests we could not answer.
      this.#pausedForWrite = true;
      this.#updateReading();
    }
  }

  #waitDrain(): Promise<void> {
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Status line and fields; `length` is the body length, or -1 for chunked. */
  #serializeHead(out: OutBuffer, ex: Exchange, length: number): boolean {
    const res = ex.response!;
    const mark = out.length;
    const line = statusLine(ex.status, res.statusText);
    out.latin1(line);
    fieldOut = out;
    fieldHasDate = false;
    fieldClose = false;
    fieldBad = line === "";
    res.headers.forEach(writeField);
    if (fieldBad) return this.#invalidHead(out, ex, mark);
    if (fieldClose) ex.close = true;
    if (!fieldHasDate) out.bytes(this.#date);
    const status = ex.status;
    if (status !== 204 && status !== 304 && status >= 200) {
      if (length >= 0) {
        out.latin1("Content-Length: ");
        out.latin1(String(length));
        out.crlf();
      } else if (ex.head.method !== "HEAD") {
        // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): the body ends
        // when the connection does.
        if (ex.head.minor === 0) ex.close = true;
        else out.latin1("Transfer-Encoding: chunked\r\n");
      }
    }
    this.#connectionField(out, ex);
    out.crlf();
    return true;
  }

  /** Replaces a head begun at `mark` that cannot go on the wire with a 500; its body is dropped. */
  #invalidHead(out: OutBuffer, ex: Exchange, mark: number): false {
    out.truncate(mark);
    ex.error = INVALID_RESPONSE;
    ex.status = 500;
    if (ex.head.method === "HEAD") ex.close = true; // the 500 carries a body a HEAD client would not read
    ex.chunks = ex.text = null;
    ex.reader?.cancel().catch(() => {});
    ex.reader = ex.nextRead = null;
    this.#serialize(out, ex);
    return false;
  }

  #connectionField(out: OutBuffer, ex: Exchange): void {
    // A request body we will not finish reading means we cannot read the next request.
    if (ex.receiving && (this.#bodyMode === BODY_CHUNKED || this.#bodyRemaining > MAX_DRAIN_BYTES)) ex.close = true;
    if (ex.close) out.latin1("Connection: close\r\n");
    else if (ex.head.minor === 0) out.latin1("Connection: keep-alive\r\n");
  }

  #serialize(out: OutBuffer, ex: Exchange): void {
    const err = ex.error;
    if (err !== null) {
      out.bytes(err.head);
      out.bytes(this.#date);
      if (err.keepsConnection === true) this.#connectionField(out, ex);
      out.bytes(err.tail);
      return;
    }
    const isHead = ex.head.method === "HEAD";
    const chunks = ex.chunks;
    const text = ex.text;
    const valid = this.#serializeHead(out, ex, chunks === null && text === null ? (isHead ? -1 : 0) : ex.chunkBytes);
    if (valid && !isHead) {
      if (text !== null) out.latin1(text);
      else if (chunks !== null) for (const c of chunks) out.bytes(c);
    }
    ex.chunks = null;
    ex.text = null;
  }

  /** False when the head was invalid and a complete 500 went out instead. */
  #serializeStreamStart(out: OutBuffer, ex: Exchange): boolean {
    const isHead = ex.head.method === "HEAD";
    if (!this.#serializeHead(out, ex, ex.fixedLength)) return false;
    if (isHead) return true;
    for (const c of ex.chunks!) this.#appendChunk(out, ex, c);
    ex.chunks = null;
    return true;
  }

  #appendChunk(out: OutBuffer, ex: Exchange, c: Uint8Array): void {
    if (ex.fixedLength >= 0 || ex.head.minor === 0) {
      out.bytes(c);
      return;
    }
    out.latin1(chunkHeader(c.length));
    out.bytes(c);
    out.crlf();
  }

  /** Streams the rest of a body, one chunk at a time, honouring backpressure. */
  async #pump(ex: Exchange): Promise<void> {
    const reader = ex.reader!;
    const isHead = ex.head.method === "HEAD";
    const chunked = ex.fixedLength < 0 && !isHead && ex.head.minor === 1;
    let sent = 0;
    let ok = true;
    try {
      if (isHead) {
        await reader.cancel();
      } else {
        let read = ex.nextRead!;
        ex.nextRead = null;
        while (true) {
          const r = await read;
          if (this.#closed) return;
          if (r.done) break;
          const c = toBytes(r.value);
          if (c.length > 0) {
            sent += c.length;
            if (chunked) {
              const out = scratch;
              out.latin1(chunkHeader(c.length));
              if (c.length <= 16 * 1024) {
                out.bytes(c);
                out.crlf();
                this.#write(out.take());
              } else {
                // Large chunks go out as they are, without a copy.
                this.#write(out.take());
                this.#write(c);
                this.#write(CRLF);
              }
            } else this.#write(c);
          }
          if (this.#writeBlocked) await this.#waitDrain();
          if (this.#closed) {
            reader.cancel().catch(() => {});
            return;
          }
          read = reader.read();
        }
        if (chunked) this.#write(LAST_CHUNK);
      }
    } catch {
      ok = false;
    }
    if (this.#closed) return;
    ex.reader = null;
    if (!ok || (ex.fixedLength >= 0 && !isHead && ex.chunkBytes + sent !== ex.fixedLength)) {
      // The stream failed mid-body: the framing cannot be completed.
      this.socket.destroy();
      return;
    }
    this.#finishedAt = 0;
    this.#finish(ex, true);
    this.#queue.shift();
    if (ex.close) {
      this.#closeAfterWrite();
      return;
    }
    this.#afterExchange();
    this.#flush();
  }
}

/** True when every UTF-16 unit of `s` is ASCII, so its UTF-8 bytes are its char codes. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return encoder.encode(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new TypeError(`Response body chunk "${String(v)}" is not bytes`);
}
