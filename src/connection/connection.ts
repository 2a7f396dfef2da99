/**
 * One client connection: reads bytes, parses pipelined requests, calls the
 * handler, and writes responses strictly in request order, batching those
 * that are ready together into one socket write.
 *
 * The steps of a request, and the file for each: the head found across
 * reads (`../http/head_reader.ts`) and parsed (`../http/parser.ts`); a body
 * that spans reads (`request_body.ts`); the request and its response as one
 * exchange (`exchange.ts`); admission and the handler call, here; the
 * handler's `Response` settled into bytes or a stream (`response.ts`);
 * serialized (`serialize.ts`) and written, here, one write per turn; after a
 * `101`, the socket handed to another protocol (`protocol.ts`).
 *
 * States (see {@linkcode ConnectionState}): `idle` between requests,
 * `reading` while a head or body is arriving, `processing` while handlers
 * run (or the socket belongs to an upgraded protocol), `writing` while the
 * peer is not draining, `closing` once no further request will be read.
 *
 * @module
 */

import type { AccessLog } from "../access_log.ts";
import type { Socket, SocketEvents } from "../socket.ts";
import type { ExecutionContext, ResolvedOptions } from "../options.ts";
import { BodySource, type BodyOwner } from "../fetch/body.ts";
import { abortRequest, makeRequest, methodCarried, sharedUrlCache, UrlCache } from "../fetch/request.ts";
import { type ConnInfo, connInfo } from "../fetch/conn_info.ts";
import { HEAD_ERROR, HEAD_INCOMPLETE, HeadReader } from "../http/head_reader.ts";
import { parseHead, RequestHead } from "../http/parser.ts";
import { ErrorCode, errorResponse, messageOf, overloaded } from "../http/errors.ts";
import { INVALID_RESPONSE, OutBuffer, scratch } from "../http/writer.ts";
import { dateLine } from "../http/date.ts";
import type { Admission, Job } from "../backpressure.ts";
import type { StatsCounters } from "../stats.ts";
import { DONE, Exchange, type ExchangeOwner, PENDING, READY, STREAM, STREAMING } from "./exchange.ts";
import { ExchangeQueue } from "./exchange_queue.ts";
import { BODY_ERROR, RequestBody } from "./request_body.ts";
import { type ResponseTarget, takeResponse } from "./response.ts";
import { keepAliveLine, writeContinue, writeReady, writeStreamStart, writeSwitchingProtocols } from "./serialize.ts";
import { pump, type PumpTarget } from "./pump.ts";
import { offerUpgrade, type Protocol, type ProtocolEvents, type Upgradable } from "./protocol.ts";

/** Where a connection is in its life; see the module doc. */
export type ConnectionState = "idle" | "reading" | "processing" | "writing" | "closing";

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  readonly runtime: string;
  readonly ctx: ExecutionContext;
  /** The transport's `staticBody` fast path, if it has one. */
  readonly staticBody?: ((response: Response) => string | Uint8Array | null) | undefined;
  /** The transport's `responseFields` fast path, if it has one. */
  readonly responseFields?: ((response: Response) => readonly (readonly [string, string])[] | null) | undefined;
  /** The transport's `makeRequest` (the handler's Request), if not the portable one. */
  readonly makeRequest?: ((head: RequestHead, body: BodySource | null, urls: UrlCache) => Request) | undefined;
  /** The transport's `peek` (a settled promise's value, synchronously), if it has one. */
  readonly peek?: (<T>(promise: Promise<T>) => T | Promise<T>) | undefined;
  /** The transport's `impliedType`, if it has one. */
  readonly impliedType?: ((response: Response) => string | null) | undefined;
  /** True once graceful shutdown began. */
  readonly closing: boolean;
  /** Counters to bump. */
  readonly counters: StatsCounters;
  /** The access log, or null when off (the only cost then: this check per answered request). */
  readonly accessLog: AccessLog | null;
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
  /**
   * An exchange left its connection while its handler still runs: the
   * server keeps its in-flight slot until the handler settles or
   * `handlerTimeoutMs` passes.
   */
  orphan(ex: Exchange): void;
  /** The socket is gone. */
  connectionClosed(conn: Connection): void;
  /** The server's WebSockets (`src/ws/hub.ts`), reached through `Upgradable.webSockets`. */
  readonly webSockets?: unknown;
}

/**
 * Handlers run at once for one connection's pipelined requests before any
 * response size is known there (see `#overOwed`): wrk's pipelining depth
 * (`bench/wrk/pipeline.lua`), so that benchmark is never throttled.
 */
const UNSETTLED_WINDOW = 16;
/** How long a connection we ended may wait for the peer's FIN before it is cut. */
const LINGER_MS = 5000;
const EMPTY_BYTES = new Uint8Array(0);
const ignore = (): void => {};

/**
 * The head scan of every connection whose head arrives in one read (a scan
 * is synchronous, and ends with the reader reset): a connection gets a
 * {@linkcode HeadReader} of its own only while a head is partly in.
 */
const sharedHeads = new HeadReader();

/**
 * The pipeline of a connection with nothing to answer: shared, and frozen
 * so that a push to it throws instead of reaching every idle connection.
 * A connection takes a queue from `sparePipelines` for its first request
 * and gives it back once all are answered, so an idle connection holds no
 * queue of its own (and the keep-alive path makes none).
 */
const NO_EXCHANGES = new ExchangeQueue(1);
Object.freeze(NO_EXCHANGES);
const sparePipelines: ExchangeQueue[] = [];
const MAX_SPARE_PIPELINES = 1024;

/**
 * The clock reading shared by the responses one flush finishes (0: not read
 * yet). A flush runs to its end synchronously, so one for all connections.
 */
let finishedAt = 0;

// A connection's flags (`Connection.#flags`).
/** Reading paused: a request body is queued past the high-water mark. */
const PAUSED_FOR_BODY = 1;
/** Reading paused: the pipeline is full (requests, owed bytes, or an upgrade pending). */
const PAUSED_FOR_PIPELINE = 2;
/** Reading paused: the peer is not taking our bytes. */
const PAUSED_FOR_WRITE = 4;
/** The socket is paused (for one of the reasons above, or the server's gate). */
const SOCKET_PAUSED = 8;
/** No further request will be parsed. */
const ENDING = 16;
/** The peer's FIN arrived. */
const PEER_ENDED = 32;
const CLOSED = 64;
/** The socket refused our last write; waiting for its drain. */
const WRITE_BLOCKED = 128;
/** A flush is queued as a microtask. */
const FLUSH_SCHEDULED = 256;
/** data() is running: responses ready now are flushed when it returns. */
const IN_DATA = 512;
const FLUSH_AFTER_DATA = 1024;
/** A timeout was counted in the stats (once per connection). */
const COUNTED_TIMEOUT = 2048;

/**
 * One accepted socket, from its first byte to its close. It is the socket's
 * {@linkcode SocketEvents} listener: `data`, `drain`, `end` and `close` are
 * things that happened to the socket; what the connection does on its own
 * account is `shutdown()`, `destroy()`, `sweep()` and the private `#sendFin()`.
 * Its other public members serve the files beside it: the exchange
 * (`run`, `refuse`), the response (`responseReady`, `handlerFailed`), the
 * pump (`send`, `drained`, `streamEnded`), the request body
 * (`bodyWanted`, `bodyDrained`) and `upgradeConnection` (`upgrade`).
 */
export class Connection implements SocketEvents, BodyOwner, ExchangeOwner, ResponseTarget, PumpTarget, Upgradable {
  readonly socket: Socket;
  #host: ConnectionHost;
  #info: ConnInfo | null = null;
  /** Unparsed bytes (a partial head, or requests held back by the pipelining limit or an upgrade). */
  #pending: Uint8Array | null = null;
  /** The head partly arrived, with its scan and clock; null between heads (see `sharedHeads`). */
  #head: HeadReader | null = null;
  /** The request body arriving over several reads, if one is. */
  #body: RequestBody | null = null;
  /** Exchanges received and not yet answered, in request order. */
  #pipeline: ExchangeQueue = NO_EXCHANGES;
  /**
   * The connection's booleans, as bits of one number (`PAUSED_FOR_BODY`
   * ...; see there): an idle connection is mostly the fields of its
   * objects, and JavaScriptCore gives each field 8 bytes, V8 4.
   */
  #flags = 0;
  /** Pumps waiting for `drain` (made on first use: most connections never wait). */
  #drainWaiters: (() => void)[] | null = null;
  /** When the connection last made progress (performance.now() ms). */
  lastActive: number;
  /** Requests answered on this connection. */
  requestCount = 0;
  #writeBlockedSince = 0;
  /** When we called socket.end() (ms), or 0. */
  #endedAt = 0;
  /** After an upgrade: the protocol that owns the socket now. */
  #protocol: ProtocolEvents | null = null;
  /** Response bytes settled but not written (READY or STREAM exchanges). */
  #readyBytes = 0;
  /** Bytes written since the socket last refused more (until its drain). */
  #unsentBytes = 0;
  /** The largest response body settled on this connection (bytes), or 0. */
  #largestResponse = 0;
  /** `Keep-Alive: timeout=N` for this server's idle timeout, prebuilt. */
  #keepAlive: Uint8Array;
  /**
   * Graceful shutdown with a grace (`shutdown(graceMs)`): how long the
   * connection must stay silent, with nothing to answer, before it is
   * ended; 0 when not shutting down that way.
   */
  #graceMs = 0;
  /** Since when (ms) the connection has had nothing to answer, during shutdown. */
  #quietSince = 0;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#keepAlive = keepAliveLine(host.options.keepAliveTimeoutMs);
    this.lastActive = performance.now();
  }

  /** The state, for statistics and tests. */
  get state(): ConnectionState {
    if (this.#protocol !== null) return (this.#flags & CLOSED) !== 0 ? "closing" : "processing";
    if ((this.#flags & CLOSED) !== 0 || ((this.#flags & ENDING) !== 0 && this.#pipeline.length === 0)) return "closing";
    if ((this.#flags & WRITE_BLOCKED) !== 0) return "writing";
    if (this.#pipeline.length > 0) return "processing";
    if (this.#pending !== null || this.#body !== null) return "reading";
    return "idle";
  }

  /** The runtime serving it (for connection info). */
  get runtime(): string {
    return this.#host.runtime;
  }

  get staticBody(): ConnectionHost["staticBody"] {
    return this.#host.staticBody;
  }

  get responseFields(): ConnectionHost["responseFields"] {
    return this.#host.responseFields;
  }

  get peek(): ConnectionHost["peek"] {
    return this.#host.peek;
  }

  get impliedType(): ConnectionHost["impliedType"] {
    return this.#host.impliedType;
  }

  // ---- socket events ---------------------------------------------------

  data(chunk: Uint8Array): void {
    if ((this.#flags & CLOSED) !== 0) return;
    if (this.#protocol !== null) {
      this.#protocol.data(chunk);
      return;
    }
    this.lastActive = performance.now();
    this.#host.counters.bytesIn += chunk.length;
    const body = this.#body;
    if (body !== null) body.received += chunk.length;
    else if ((this.#flags & ENDING) !== 0) return; // nothing more will be read
    let buf = chunk;
    const pending = this.#pending;
    if (pending !== null) {
      buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending, 0);
      buf.set(chunk, pending.length);
      this.#pending = null;
    }
    this.#flags |= IN_DATA;
    try {
      this.#process(buf, 0);
    } finally {
      this.#flags &= ~IN_DATA;
    }
    // Handlers that answered synchronously with a fixed body are ready now:
    // write them in this turn, without waiting for a microtask.
    if ((this.#flags & FLUSH_AFTER_DATA) !== 0) {
      this.#flags &= ~FLUSH_AFTER_DATA;
      this.#flush();
    }
  }

  drain(): void {
    this.#flags &= ~WRITE_BLOCKED;
    this.#unsentBytes = 0;
    if (this.#protocol !== null) {
      this.#protocol.drain();
      return;
    }
    const waiters = this.#drainWaiters;
    if (waiters !== null) {
      this.#drainWaiters = null;
      for (const w of waiters) w();
    }
    if ((this.#flags & PAUSED_FOR_WRITE) !== 0) {
      this.#flags &= ~PAUSED_FOR_WRITE;
      this.#updateReading();
    }
    this.#flush();
    if ((this.#flags & (PAUSED_FOR_PIPELINE | WRITE_BLOCKED)) === PAUSED_FOR_PIPELINE) this.#resumeParsing();
  }

  end(): void {
    if (this.#protocol !== null) {
      this.#protocol.end();
      return;
    }
    // The peer sent FIN. Like node:http, treat it as the client going away:
    // in-flight requests see their signal abort. Responses that still get
    // produced are written before we close, for clients that half-close
    // after sending (printf | nc).
    this.#flags |= PEER_ENDED;
    this.#flags |= ENDING;
    const body = this.#body;
    if (body !== null) {
      // The body can never complete now: it is the client's error (RFC 9112
      // §8), so answer 400 rather than let the handler's failure become a 500.
      const ex = body.exchange;
      if (ex.state === PENDING) {
        ex.answerWith(errorResponse(ErrorCode.INCOMPLETE_BODY));
        this.#scheduleFlush();
      }
      body.source.fail(new Error(`Request body failed: ${messageOf(ErrorCode.INCOMPLETE_BODY)}`));
      ex.close = true;
      this.#body = null;
    }
    const pipeline = this.#pipeline;
    for (let k = 0; k < pipeline.length; k++) {
      const ex = pipeline.at(k);
      if (ex.request !== null) abortRequest(ex.request);
    }
    if (this.#pipeline.length === 0) this.#sendFin();
  }

  close(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    this.#flags |= ENDING;
    if (this.#protocol !== null) {
      this.#protocol.close();
      this.#host.connectionClosed(this);
      return;
    }
    const gone = new Error("The client closed the connection");
    for (const ex of this.#pipeline.toArray()) {
      ex.abandon(gone);
      if (ex.state !== DONE) {
        this.#host.counters.aborted++;
        this.#finish(ex, false);
      }
    }
    this.#releasePipeline();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = null;
    if (waiters !== null) for (const w of waiters) w();
    this.#host.connectionClosed(this);
  }

  // ---- body owner ------------------------------------------------------

  bodyWanted(): void {
    const ex = this.#body?.exchange;
    if (ex !== undefined && ex.head.expectContinue && !ex.continuePending) {
      ex.continuePending = true;
      if (this.#pipeline.first() === ex) this.#sendContinue(ex);
    }
  }

  bodyDrained(): void {
    const source = this.#body?.source;
    if ((this.#flags & PAUSED_FOR_BODY) !== 0 && (source === undefined || source.collecting || source.queuedBytes <= this.#host.options.highWaterMarkBytes)) {
      this.#flags &= ~PAUSED_FOR_BODY;
      this.#updateReading();
    }
  }

  // ---- reading and parsing ---------------------------------------------

  /** The server's reading gate changed (`slow_down`). */
  gateChanged(): void {
    if (this.#protocol === null) this.#updateReading();
  }

  #updateReading(): void {
    const flags = this.#flags;
    const paused = (flags & (PAUSED_FOR_BODY | PAUSED_FOR_PIPELINE | PAUSED_FOR_WRITE)) !== 0 || this.#host.gated;
    if (paused !== ((flags & SOCKET_PAUSED) !== 0) && (flags & CLOSED) === 0) {
      this.#flags = paused ? this.#flags | SOCKET_PAUSED : this.#flags & ~SOCKET_PAUSED;
      // Time we refused to read does not count against the client: not
      // against its body's rate, its head's clock, or its keep-alive idle
      // time (a request it sent meanwhile waits unread in the kernel).
      const now = performance.now();
      this.#body?.paused(paused, now);
      this.#head?.paused(paused, now);
      if (paused) this.socket.pause();
      else {
        this.lastActive = now;
        this.socket.resume();
      }
    }
  }

  #process(buf: Uint8Array, i: number): void {
    const end = buf.length;
    const options = this.#host.options;
    while (i < end) {
      if (this.#body !== null) {
        i = this.#feedBody(this.#body, buf, i, end);
        if (i < 0) return;
        continue;
      }
      if ((this.#flags & ENDING) !== 0) return;
      const pipeline = this.#pipeline;
      // Enough work queued (in requests, or in response bytes the peer has
      // not taken), or an upgrade request whose answer decides what the
      // next bytes are: keep the rest unparsed and stop reading until
      // responses go out.
      if (
        pipeline.length >= options.maxPipelinedRequests ||
        (pipeline.length > 0 && (pipeline.last()!.head.upgrade || this.#overOwed()))
      ) {
        this.#pending = buf.subarray(i);
        this.#flags |= PAUSED_FOR_PIPELINE;
        this.#updateReading();
        return;
      }
      const reader = this.#head ?? sharedHeads;
      const headEnd = reader.find(buf, i, end, this.lastActive, options);
      if (headEnd === HEAD_INCOMPLETE) {
        // The scan's place and the head's clock stay with this connection.
        const own = reader === sharedHeads ? (this.#head = sharedHeads.detach()) : reader;
        if ((this.#flags & SOCKET_PAUSED) !== 0) own.paused(true, this.lastActive);
        this.#pending = own.keep(buf, end);
        return;
      }
      this.#head = null;
      if (headEnd === HEAD_ERROR) {
        this.#reject(reader.error);
        return;
      }
      const head = new RequestHead();
      const code = parseHead(buf, reader.start, headEnd, head, options);
      if (code !== ErrorCode.NONE) {
        this.#reject(code);
        return;
      }
      i = headEnd;
      let body: BodySource | null = null;
      let spans = 0; // a body still to come: -1 chunked, else its length
      if (head.chunked) {
        body = new BodySource(this);
        spans = -1;
      } else if (head.contentLength > 0) {
        const length = head.contentLength;
        if (length > options.maxBodyBytes) {
          this.#reject(ErrorCode.BODY_TOO_LARGE);
          return;
        }
        if (end - i >= length) {
          // The whole body came with the head: the common case for small POSTs.
          body = BodySource.of(buf.subarray(i, i + length));
          i += length;
        } else {
          body = new BodySource(this);
          spans = length;
        }
      }
      const ex = new Exchange(this, head, body);
      if (spans !== 0) this.#body = new RequestBody(ex, spans, options, this.lastActive, end - i);
      // Shutting down with a grace, whether this answer closes is decided
      // as it is written (#closesForShutdown), so that what else has
      // arrived by then is answered too.
      if (!ex.close && this.#host.closing && this.#graceMs === 0) ex.close = true;
      if (ex.close) this.#flags |= ENDING;
      this.#enqueue(ex);
      this.#admit(ex);
    }
    this.#pending = null;
  }

  /** Adds a received request to the pipeline (taking a queue for it when it was empty). */
  #enqueue(ex: Exchange): void {
    if (this.#pipeline === NO_EXCHANGES) this.#pipeline = sparePipelines.pop() ?? new ExchangeQueue();
    this.#pipeline.push(ex);
  }

  /** The pipeline is empty (or is emptied now): its queue goes back for another connection. */
  #releasePipeline(): void {
    const pipeline = this.#pipeline;
    if (pipeline === NO_EXCHANGES) return;
    pipeline.clear();
    this.#pipeline = NO_EXCHANGES;
    if (sparePipelines.length < MAX_SPARE_PIPELINES) sparePipelines.push(pipeline);
  }

  /** Feeds request-body bytes; returns where it stopped, or -1 after a rejection. */
  #feedBody(body: RequestBody, buf: Uint8Array, i: number, end: number): number {
    i = body.feed(buf, i, end);
    if (i === BODY_ERROR) {
      this.#rejectBody(body.error);
      return -1;
    }
    if (body.complete) this.#bodyComplete(body);
    const source = body.source;
    if (!source.discarding && !source.collecting && source.queuedBytes > this.#host.options.highWaterMarkBytes) {
      this.#flags |= PAUSED_FOR_BODY;
      this.#updateReading();
    }
    return i;
  }

  #bodyComplete(body: RequestBody): void {
    this.#body = null;
    body.source.end();
    if ((this.#flags & PAUSED_FOR_BODY) !== 0) {
      this.#flags &= ~PAUSED_FOR_BODY;
      this.#updateReading();
    }
    // The response may already be out, waiting for the body to drain.
    if (body.exchange.state === DONE) this.#afterExchange();
  }

  /** The head (or framing) is bad: answer after what is already queued, then close. */
  #reject(code: number): void {
    this.#flags |= ENDING;
    this.#pending = null;
    this.#head = null;
    const ex = new Exchange(this, new RequestHead(), null);
    ex.answerWith(errorResponse(code));
    ex.startedAt = performance.now();
    this.#enqueue(ex);
    this.#host.counters.requestsTotal++;
    this.#flush();
  }

  /** The body in progress turned out malformed, too large or too slow. */
  #rejectBody(code: number): void {
    const ex = this.#body!.exchange;
    this.#flags |= ENDING;
    this.#body = null;
    ex.body?.fail(new Error(`Request body failed: ${messageOf(code)}`));
    if (ex.state === STREAMING || ex.state === DONE) {
      // Part of a response is on the wire already: all we can do is cut.
      this.socket.destroy();
      return;
    }
    ex.answerWith(errorResponse(code));
    this.#flush();
  }

  /** Called by the server's sweep about once a second. */
  sweep(now: number): "timeout" | "idle" | null {
    if ((this.#flags & CLOSED) !== 0) return null;
    if (this.#protocol !== null) {
      this.#protocol.sweep?.(now);
      return null;
    }
    const o = this.#host.options;
    if (this.#endedAt !== 0) {
      // We sent FIN and wait for the peer's; a peer that never sends it
      // must not hold the socket forever.
      if (now - this.#endedAt > LINGER_MS) this.socket.destroy();
      return null;
    }
    // A paused socket may not notice its peer's reset by itself.
    if ((this.#flags & (SOCKET_PAUSED | WRITE_BLOCKED)) === SOCKET_PAUSED) this.socket.probe?.();
    // A handler that does not settle its Response in time.
    const limit = o.handlerTimeoutMs;
    if (limit > 0 && this.#pipeline.length > 0) {
      for (const ex of this.#pipeline.toArray()) {
        if (ex.running && ex.runAt >= 0 && now - ex.runAt > limit) {
          this.#handlerTimedOut(ex);
          if ((this.#flags & CLOSED) !== 0) return null;
        }
      }
    }
    // Slowloris: a head that takes too long to arrive (its clock stops
    // while we do not read).
    const head = this.#head;
    if (head !== null && head.startedAt !== 0 && this.#pipeline.length === 0 && !head.clockStopped && now - head.startedAt > o.headersTimeoutMs) {
      this.#reject(ErrorCode.REQUEST_TIMEOUT);
      return this.#timedOut();
    }
    // Slow POST: a body that takes too long, or arrives too slowly.
    if (this.#body !== null && this.#body.timedOut(now, o)) {
      this.#rejectBody(ErrorCode.REQUEST_TIMEOUT);
      return this.#timedOut();
    }
    // A peer that takes none of our bytes for too long.
    if ((this.#flags & WRITE_BLOCKED) !== 0 && now - this.#writeBlockedSince > o.writeTimeoutMs) {
      this.socket.destroy();
      return this.#timedOut();
    }
    // Idle keep-alive, unless we are the ones not reading (the overload
    // gate): the client may have sent a request we have not read.
    if (this.state === "idle" && (this.#flags & SOCKET_PAUSED) === 0 && now - this.lastActive > o.keepAliveTimeoutMs) {
      this.#sendFin();
      return "idle";
    }
    return null;
  }

  /** A timeout ended this connection: counted once in stats, however many clocks ran out. */
  #timedOut(): "timeout" | null {
    if ((this.#flags & COUNTED_TIMEOUT) !== 0) return null;
    this.#flags |= COUNTED_TIMEOUT;
    return "timeout";
  }

  /** Sends FIN once; the sweep destroys the socket if the peer never answers it. */
  #sendFin(): void {
    this.#flags |= ENDING;
    if (this.#endedAt === 0) {
      this.#endedAt = performance.now();
      this.socket.end();
      // The socket closes once the peer's FIN is read: read on, whatever
      // paused us (a response that filled the socket's buffer gets no
      // drain after end() on Deno), and ignore what comes.
      this.#flags &= ~(PAUSED_FOR_BODY | PAUSED_FOR_PIPELINE | PAUSED_FOR_WRITE);
      this.#updateReading();
    }
  }

  /**
   * Graceful shutdown: finish what was received, then close. With a
   * `graceMs`, nothing that reaches us before we say we close is lost:
   * every request whose first byte has arrived is answered, the last answer
   * with `Connection: close` (a head partly arrived is waited for, within
   * `headersTimeoutMs`); a connection with nothing to answer is ended once
   * it has stayed silent for `graceMs` (see {@linkcode graceCheck}), since
   * a client may have written a request on it that is still on its way.
   * Without, the last request received is answered with `Connection:
   * close` and an idle connection is ended at once.
   */
  shutdown(graceMs = 0): void {
    if ((this.#flags & CLOSED) !== 0) return;
    if (this.#protocol !== null) {
      this.#protocol.shutdown?.();
      return;
    }
    // An upgrade would hand the socket to a protocol past our shutdown.
    const pipeline = this.#pipeline;
    for (let k = 0; k < pipeline.length; k++) pipeline.at(k).upgrade = null;
    if (graceMs > 0 && (this.#flags & ENDING) === 0) {
      this.#graceMs = graceMs;
      this.#quietSince = performance.now();
      return;
    }
    this.#flags |= ENDING;
    // Everything already received is answered; the last answer says
    // Connection: close, and the connection ends after it.
    const last = pipeline.last();
    if (last === undefined) this.#sendFin();
    else {
      last.close = true;
      last.upgrade = null;
    }
  }

  /**
   * Called by the server during a graceful shutdown, every fraction of the
   * grace: ends the connection once it has had nothing to answer and has
   * received nothing for the whole grace.
   */
  graceCheck(now: number): void {
    if (this.#graceMs === 0 || (this.#flags & (CLOSED | ENDING)) !== 0 || this.#protocol !== null) return;
    if (this.#pipeline.length > 0 || this.#pending !== null || this.#body !== null) return;
    if (now - Math.max(this.#quietSince, this.lastActive) >= this.#graceMs) this.#sendFin();
  }

  /**
   * Shutting down with a grace: the answer being written closes the
   * connection when it is the last one to give and nothing more has
   * arrived (no head partly in, no request body still coming).
   */
  #closesForShutdown(ex: Exchange, isLast: boolean): void {
    if (this.#graceMs !== 0 && isLast && this.#pending === null && this.#body === null) ex.close = true;
  }

  /** Forced close at the shutdown deadline. */
  destroy(): void {
    if ((this.#flags & CLOSED) === 0) this.socket.destroy();
  }

  /** Requests received but not yet answered. */
  get inFlight(): number {
    return this.#pipeline.length;
  }

  // ---- upgrade ---------------------------------------------------------

  /**
   * Marks `request` to switch this connection to `protocol` once answered
   * (see `protocol.ts`); false when it cannot. Scans the pipeline, so it
   * costs nothing to requests that do not ask.
   */
  upgrade(request: Request, protocol: Protocol, headers?: readonly (readonly [string, string])[]): boolean {
    if ((this.#flags & CLOSED) !== 0 || this.#protocol !== null || this.#host.closing) return false;
    const pipeline = this.#pipeline;
    for (let k = 0; k < pipeline.length; k++) {
      const ex = pipeline.at(k);
      if ((ex.request as unknown) !== request) continue;
      if (ex.state !== PENDING || !ex.head.upgrade || ex.close || ex.upgrade !== null) return false;
      if (this.#body !== null && this.#body.exchange === ex) return false;
      ex.upgrade = { protocol, headers };
      return true;
    }
    return false;
  }

  /** See `Upgradable.refuseUpgrade`. */
  refuseUpgrade(request: Request, response: Response): void {
    const pipeline = this.#pipeline;
    for (let k = 0; k < pipeline.length; k++) {
      const ex = pipeline.at(k);
      if ((ex.request as unknown) === request) {
        if (ex.state === PENDING && ex.upgrade === null) ex.refusal = response;
        return;
      }
    }
  }

  get webSockets(): unknown {
    return this.#host.webSockets;
  }

  /** The 101 is written: HTTP is over; the protocol owns the socket. */
  #switchProtocols(ex: Exchange): void {
    const buffered = this.#pending ?? EMPTY_BYTES;
    this.#pending = null;
    this.#flags |= ENDING;
    this.#head = null;
    // HTTP's connection info is not needed again: an idle WebSocket holds less.
    this.#info = null;
    // The reading gate is the protocol's now.
    this.#flags &= ~(PAUSED_FOR_BODY | PAUSED_FOR_PIPELINE | PAUSED_FOR_WRITE);
    if ((this.#flags & SOCKET_PAUSED) !== 0) {
      this.#flags &= ~SOCKET_PAUSED;
      this.socket.resume();
    }
    this.#protocol = ex.upgrade!.protocol.attach(this.socket, buffered);
  }

  // ---- handler ---------------------------------------------------------

  #admit(ex: Exchange): void {
    const host = this.#host;
    host.counters.requestsTotal++;
    ex.startedAt = this.lastActive;
    try {
      ex.request = (host.makeRequest ?? makeRequest)(ex.head, ex.body, this.#urlCache(ex.head));
    } catch {
      this.#unrepresentable(ex);
      return;
    }
    if (ex.head.upgrade) offerUpgrade(ex.request, this);
    const priority = host.options.priority;
    if (priority !== undefined) {
      try {
        ex.priority = priority(ex.request);
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

  /**
   * The runtime's `Request` cannot carry this head (see `makeRequest`): a
   * method it refuses or would change gets 501, as CONNECT does (RFC 9110
   * §15.6.2: a method the server does not implement); anything else (a URL
   * its parser rejects, such as `Host: 1.2.3.999`) 400. Then the connection
   * closes.
   */
  #unrepresentable(ex: Exchange): void {
    ex.answerWith(errorResponse(methodCarried(ex.head.method) ? ErrorCode.INVALID_TARGET : ErrorCode.METHOD_NOT_IMPLEMENTED));
    this.#flags |= ENDING;
    this.#scheduleFlush();
  }

  /** Backpressure refused this request: 503, and the connection goes on. */
  refuse(ex: Exchange): void {
    if (ex.state !== PENDING || (this.#flags & CLOSED) !== 0) return;
    ex.answerWith(overloaded(this.#host.options.retryAfterSeconds));
    this.#scheduleFlush();
  }

  /** Calls the handler (the request was admitted). */
  run(ex: Exchange): void {
    if ((this.#flags & CLOSED) !== 0 || ex.state !== PENDING) {
      // Its connection is gone: give the slot back at once.
      if (ex.admitted) {
        ex.admitted = false;
        this.#host.requestDone();
      }
      return;
    }
    const host = this.#host;
    const request = ex.request!;
    // Inside data() the clock was just read; a queued request admitted later reads it now.
    ex.runAt = (this.#flags & IN_DATA) !== 0 ? this.lastActive : performance.now();
    let result: Response | void | undefined | Promise<Response | void | undefined>;
    try {
      result = host.options.fetch(request, this.#env(), host.ctx);
    } catch (e) {
      ex.upgrade = null;
      ex.failed = true;
      result = host.handlerFailed(e);
    }
    if (result != null && typeof (result as Promise<Response>).then === "function") {
      ex.running = true;
      (result as Promise<Response>).then(
        (r) => {
          this.#handlerSettled(ex);
          takeResponse(ex, r, this);
        },
        (e) => {
          this.#handlerSettled(ex);
          this.handlerFailed(ex, e);
        },
      );
    } else takeResponse(ex, result as Response, this); // checks what it was given
  }

  /** The handler's promise settled: a slot kept for it past its exchange's end is freed now. */
  #handlerSettled(ex: Exchange): void {
    ex.running = false;
    if (ex.state === DONE && ex.admitted) {
      ex.admitted = false;
      this.#host.requestDone();
    }
  }

  /**
   * `handlerTimeoutMs` passed with the handler's Response unsettled: its
   * signal aborts, its slot is freed, and the client gets 503 (the
   * connection closes after it: the handler may still hold the request).
   */
  #handlerTimedOut(ex: Exchange): void {
    ex.runAt = -1;
    if (ex.request !== null) abortRequest(ex.request);
    if (ex.admitted) {
      ex.admitted = false;
      this.#host.requestDone();
    }
    if (ex.state === PENDING) {
      ex.answerWith(errorResponse(ErrorCode.HANDLER_TIMEOUT));
      this.#flush();
    }
  }

  /** The handler (or its response) failed: the server's error response instead. */
  handlerFailed(ex: Exchange, error: unknown): void {
    // Already answered by the server (a rejected body, a timeout): the
    // handler's failure is a consequence, not news.
    if (ex.state !== PENDING || (this.#flags & CLOSED) !== 0) return;
    ex.upgrade = null;
    ex.failed = true;
    let r: Response | Promise<Response>;
    try {
      r = this.#host.handlerFailed(error);
    } catch {
      r = new Response("Internal Server Error", { status: 500 });
    }
    Promise.resolve(r).then(
      (res) => takeResponse(ex, res, this),
      () => takeResponse(ex, new Response("Internal Server Error", { status: 500 }), this),
    );
  }

  /**
   * Where `head`'s URL is built: the cache all connections share, unless it
   * has no Host (HTTP/1.0), when the URL's origin is the address this
   * connection came in on. Nothing is kept per connection, and no address is
   * read until a request needs it.
   */
  #urlCache(head: RequestHead): UrlCache {
    const s = this.socket;
    if (head.hostStart !== -1) return sharedUrlCache(s.encrypted === true);
    const a = s.localAddress;
    return new UrlCache((s.encrypted === true ? "https://" : "http://") + (a.includes(":") ? `[${a}]` : a) + ":" + s.localPort);
  }

  /** The env handlers get: connection info, made on the first request; it also leads back here (`upgradeConnection`). */
  #env(): ConnInfo {
    return (this.#info ??= connInfo(this));
  }

  // ---- writing ---------------------------------------------------------

  /** A response became READY or STREAM. */
  responseReady(ex: Exchange): void {
    if (ex.chunkBytes > 0 && ex.owed === 0) {
      ex.owed = ex.chunkBytes;
      this.#readyBytes += ex.owed;
      if (ex.owed > this.#largestResponse) this.#largestResponse = ex.owed;
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    // Inside data(), the flush at its end will pick this response up: no
    // microtask needed (one fewer per request on the keep-alive path).
    if ((this.#flags & IN_DATA) !== 0) {
      this.#flags |= FLUSH_AFTER_DATA;
      return;
    }
    if ((this.#flags & FLUSH_SCHEDULED) !== 0) return;
    this.#flags |= FLUSH_SCHEDULED;
    queueMicrotask(() => {
      this.#flags &= ~FLUSH_SCHEDULED;
      this.#flush();
    });
  }

  /** `100 Continue` on its own write (never called while a flush is building). */
  #sendContinue(ex: Exchange): void {
    if (ex.state === PENDING && ex.continuePending && (this.#flags & CLOSED) === 0) {
      writeContinue(scratch, ex);
      this.#write(scratch.take());
    }
  }

  /** A request body we will not finish reading means we cannot read the next request. */
  #closesForBody(ex: Exchange): void {
    const body = this.#body;
    if (body !== null && body.exchange === ex && body.tooLongToDrain && !body.source.readThrough) ex.close = true;
  }

  /** Writes every response at the front of the pipeline that is ready, in one write. */
  #flush(): void {
    if ((this.#flags & (CLOSED | WRITE_BLOCKED)) !== 0 || this.#protocol !== null) return;
    // One clock read per flush, shared by the responses it writes.
    finishedAt = 0;
    const date = dateLine();
    const pipeline = this.#pipeline;
    const out = scratch;
    let closeAfter = false;
    let streamEx: Exchange | null = null;
    let upgradeEx: Exchange | null = null;
    let finished = 0;
    while (finished < pipeline.length) {
      const ex = pipeline.at(finished);
      if (ex.state === READY) {
        finished++;
        if (ex.upgrade !== null) {
          writeSwitchingProtocols(out, ex, date);
          upgradeEx = ex;
          break;
        }
        this.#closesForBody(ex);
        this.#closesForShutdown(ex, finished === pipeline.length);
        writeReady(out, ex, date, this.#keepAlive);
        if (ex.close) {
          closeAfter = true;
          break;
        }
        continue;
      }
      if (ex.state === STREAM) {
        this.#closesForBody(ex);
        this.#closesForShutdown(ex, finished === pipeline.length - 1);
        if (!writeStreamStart(out, ex, date, this.#keepAlive)) {
          finished++; // answered with a 500 instead: like a READY response
          if (ex.close) {
            closeAfter = true;
            break;
          }
          continue;
        }
        ex.state = STREAMING;
        this.#readyBytes -= ex.owed;
        ex.owed = 0;
        streamEx = ex;
        break;
      }
      if (ex.state === PENDING && ex.continuePending) writeContinue(out, ex);
      break;
    }
    for (let k = 0; k < finished; k++) this.#finish(pipeline.at(k), true);
    if (finished > 0) pipeline.drop(finished);
    if (finished > 0 && pipeline.length === 0) this.#releasePipeline();
    if (out.length > 0) this.#write(out.take());
    if (upgradeEx !== null) {
      this.#switchProtocols(upgradeEx);
      return;
    }
    if (closeAfter) {
      this.#closeAfterWrite();
      return;
    }
    if (finished > 0) this.#afterExchange();
    if (streamEx !== null) pump(streamEx, this);
  }

  /** The one place an exchange ends: counters, admission slot, state. */
  #finish(ex: Exchange, answered: boolean): void {
    ex.state = DONE;
    if (ex.owed !== 0) {
      this.#readyBytes -= ex.owed;
      ex.owed = 0;
    }
    if (ex.queued) {
      ex.queued = false;
      this.#host.forget(ex);
    }
    if (ex.admitted) {
      // A handler still running keeps its slot until it settles (or times
      // out): the slot bounds handlers at work, not responses owed.
      if (ex.running) this.#host.orphan(ex);
      else {
        ex.admitted = false;
        this.#host.requestDone();
      }
    }
    if (answered) {
      this.requestCount++;
      const counters = this.#host.counters;
      // `errors` counts the error answers clients got: a handler failure
      // (the 500, or onError's answer) or a response head that could not go
      // on the wire (the 500 of serialize.ts).
      if (ex.failed || ex.error === INVALID_RESPONSE) counters.errors++;
      const duration = (finishedAt ||= performance.now()) - ex.startedAt;
      counters.record(ex.status, duration);
      const log = this.#host.accessLog;
      if (log !== null) this.#logAccess(log, ex, duration);
    }
  }

  /** One access-log line for an answered exchange (only with `accessLog` on). */
  #logAccess(log: AccessLog, ex: Exchange, duration: number): void {
    const h = ex.head;
    let target = "";
    for (let i = h.targetStart; i < h.targetEnd; i++) target += String.fromCharCode(h.buf[i]);
    log.record(h.method, target, h.minor, ex.status, ex.chunkBytes, duration, this.socket.remoteAddress);
  }

  /** After a response went out: drain the leftover body, and read again. */
  #afterExchange(): void {
    const body = this.#body;
    if (body !== null && body.exchange.state === DONE) {
      // Its response is out but the body is still coming: throw it away,
      // unless there is too much of it to be worth reading.
      const source = body.source;
      if (!source.discarding) {
        source.discard();
        if (body.tooLongToDrain) {
          this.#sendFin();
          return;
        }
      }
      if ((this.#flags & PAUSED_FOR_BODY) !== 0) {
        this.#flags &= ~PAUSED_FOR_BODY;
        this.#updateReading();
      }
      return;
    }
    if (this.#pipeline.length === 0 && ((this.#flags & PEER_ENDED) !== 0 || ((this.#flags & ENDING) !== 0 && body === null))) {
      this.#sendFin();
      return;
    }
    // Shutting down: the grace of silence starts again from this answer.
    if (this.#graceMs !== 0 && this.#pipeline.length === 0) this.#quietSince = performance.now();
    if ((this.#flags & PAUSED_FOR_PIPELINE) !== 0) this.#resumeParsing();
    const front = this.#pipeline.first();
    if (front !== undefined && front.continuePending) this.#sendContinue(front);
  }

  /**
   * Response bytes owed to the peer are past `maxQueuedResponseBytes`, or
   * would be once the handlers still running answer: each is reckoned at
   * the largest response seen on this connection, and before any was seen
   * at most {@linkcode UNSETTLED_WINDOW} run at once.
   */
  #overOwed(): boolean {
    const limit = this.#host.options.maxQueuedResponseBytes;
    const owed = this.#readyBytes + this.#unsentBytes;
    if (owed > limit) return true;
    const pipeline = this.#pipeline;
    const largest = this.#largestResponse;
    if (largest === 0 ? pipeline.length < UNSETTLED_WINDOW : owed + pipeline.length * largest <= limit) return false;
    let unsettled = 0;
    for (let k = 0; k < pipeline.length; k++) if (pipeline.at(k).state === PENDING) unsettled++;
    return largest === 0 ? unsettled >= UNSETTLED_WINDOW : owed + unsettled * largest > limit;
  }

  /** Parsing stopped for the pipeline's sake: go on once there is room again. */
  #resumeParsing(): void {
    if (this.#pipeline.length >= this.#host.options.maxPipelinedRequests || this.#overOwed()) return;
    const last = this.#pipeline.last();
    if (last !== undefined && last.head.upgrade) return;
    this.#flags &= ~PAUSED_FOR_PIPELINE;
    const pending = this.#pending;
    this.#pending = null;
    this.#updateReading();
    if (pending !== null) this.#process(pending, 0);
  }

  /** The response just written closes the connection: what is queued behind it is dropped. */
  #closeAfterWrite(): void {
    for (const ex of this.#pipeline.toArray()) {
      ex.reader?.cancel().catch(ignore);
      if (ex.request !== null) abortRequest(ex.request);
      this.#finish(ex, false);
    }
    this.#releasePipeline();
    this.#sendFin();
  }

  /** Writes bytes to the socket (for the pump). */
  send(bytes: Uint8Array): void {
    this.#write(bytes);
  }

  get closed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }

  get writeBlocked(): boolean {
    return (this.#flags & WRITE_BLOCKED) !== 0;
  }

  /** Resolves on the next drain, or when the socket closes. */
  drained(): Promise<void> {
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  #write(bytes: Uint8Array): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#host.counters.bytesOut += bytes.length;
    const ok = this.socket.write(bytes);
    // Written out or copied already: the output buffer may reuse its bytes.
    if (ok && this.socket.copied?.() === true) scratch.giveBack(bytes);
    if (!ok || (this.#flags & WRITE_BLOCKED) !== 0) this.#unsentBytes += bytes.length;
    if (!ok) {
      this.#flags |= WRITE_BLOCKED;
      this.#writeBlockedSince = this.lastActive = performance.now();
      // Write-side backpressure: stop reading requests we could not answer.
      this.#flags |= PAUSED_FOR_WRITE;
      this.#updateReading();
    }
  }

  /** The end of a pumped body (see `pump.ts`). */
  streamEnded(ex: Exchange, complete: boolean): void {
    ex.reader = null;
    if (!complete) {
      // The stream failed mid-body: the framing cannot be completed.
      this.socket.destroy();
      return;
    }
    finishedAt = 0;
    this.#finish(ex, true);
    const pipeline = this.#pipeline;
    if (pipeline.length > 0) {
      pipeline.drop(1);
      if (pipeline.length === 0) this.#releasePipeline();
    }
    if (ex.close) {
      this.#closeAfterWrite();
      return;
    }
    this.#afterExchange();
    this.#flush();
  }
}
