/**
 * One request and the response to it: the unit a connection's pipeline
 * holds, and the ticket the backpressure manager admits or refuses.
 *
 * An exchange moves through its states in one direction:
 * {@linkcode PENDING} (the handler or the response body is still running),
 * then {@linkcode READY} (the whole response is known) or {@linkcode STREAM}
 * (its head is known and its body still producing), {@linkcode STREAMING}
 * (head written, body being pumped), and {@linkcode DONE}.
 *
 * @module
 */

import type { Job } from "../backpressure.ts";
import type { BodySource } from "../fetch/body.ts";
import { abortRequest } from "../fetch/request.ts";
import type { ErrorResponse } from "../http/errors.ts";
import type { RequestHead } from "../http/parser.ts";
import type { Protocol } from "./protocol.ts";

/** The handler or the response body is still running. */
export const PENDING = 0;
/** The whole response is known: head and body bytes (or a prebuilt error). */
export const READY = 1;
/** The head is known; the body is a stream still producing. */
export const STREAM = 2;
/** The head is written; the body is being pumped. */
export const STREAMING = 3;
/** Answered or abandoned; off the pipeline. */
export const DONE = 4;

/** What an exchange calls back on its connection. */
export interface ExchangeOwner {
  /** Admitted: call the handler. */
  run(ex: Exchange): void;
  /** Refused by overload control: answer 503. */
  refuse(ex: Exchange): void;
}

/** A handler asked to switch this exchange's connection to another protocol. */
export interface Upgrade {
  readonly protocol: Protocol;
  /** Fields sent on the 101 after the handler's own. */
  readonly headers: readonly (readonly [string, string])[] | undefined;
}

const ignore = (): void => {};

/** One request and the response to it; also its ticket for admission. */
export class Exchange implements Job {
  state = PENDING;
  conn: ExchangeOwner;
  /** Admitted by the backpressure manager (and so counted in flight). */
  admitted = false;
  /** Waiting in the backpressure manager's queue. */
  queued = false;
  priority = 0;
  /** The handler was called and has not returned or settled its promise yet. */
  running = false;
  /** performance.now() when the handler was called (for `handlerTimeoutMs`); -1 once it timed out. */
  runAt = 0;
  /** performance.now() when the head was parsed. */
  startedAt = 0;
  head: RequestHead;
  request: Request | null = null;
  body: BodySource | null;
  response: Response | null = null;
  /** The response's fields as its runtime keeps them (`Transport.responseFields`), or null: `response.headers`. */
  fields: readonly (readonly [string, string])[] | null = null;
  status = 0;
  /** Buffered response body (READY) or its first chunks (STREAM). */
  chunks: Uint8Array[] | null = null;
  /**
   * A buffered body kept as the string it came as (READY only): written
   * character by character when `textAscii`, else UTF-8 encoded as it is
   * written (then `chunkBytes` becomes its byte count).
   */
  text: string | null = null;
  textAscii = false;
  chunkBytes = 0;
  /** Response bytes settled and not yet written, counted in the connection's owed bytes. */
  owed = 0;
  reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** A read started while settling, to be continued by the pump. */
  nextRead: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  /** The handler failed: the answer is the server's error response (or `onError`'s); counted in `errors` once written. */
  failed = false;
  /** A prebuilt error answer instead of the handler's. */
  error: ErrorResponse | null = null;
  /** Close the connection after this response. */
  close: boolean;
  /** Send `100 Continue` once this exchange reaches the front. */
  continuePending = false;
  /** Raw length framing asked by the handler for a streamed body. */
  fixedLength = -1;
  /** A `Content-Type` the runtime implies for the body but does not list in its fields (`Transport.impliedType`). */
  impliedType: string | null = null;
  /** Set by `Connection.upgrade`: answer 101 and hand the socket over. */
  upgrade: Upgrade | null = null;
  /** Set by `Connection.refuseUpgrade`: the answer to a refused handshake. */
  refusal: Response | null = null;

  constructor(conn: ExchangeOwner, head: RequestHead, body: BodySource | null) {
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

  /** Its connection closed: the handler's request aborts, and both bodies fail. */
  abandon(gone: Error): void {
    if (this.request !== null) abortRequest(this.request);
    if (this.body !== null && !this.body.complete) this.body.fail(gone);
    if (this.reader !== null) this.reader.cancel(gone).catch(ignore);
    else if (this.response?.body && !this.response.bodyUsed) this.response.body.cancel(gone).catch(ignore);
  }

  /**
   * Answer with a prebuilt error instead of whatever the handler produces:
   * a response body still being read is cancelled, and the connection closes
   * after it unless the error keeps it (overload's 503). The caller flushes.
   */
  answerWith(error: ErrorResponse): void {
    const reader = this.reader;
    if (reader !== null) {
      this.reader = null;
      reader.cancel().catch(ignore);
    } else this.response?.body?.cancel().catch(ignore);
    this.error = error;
    this.status = error.status;
    this.state = READY;
    this.upgrade = null;
    if (error.keepsConnection !== true) this.close = true;
  }
}
