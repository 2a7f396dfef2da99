/**
 * A request body as it arrives from the socket: chunks queued by the
 * connection, taken by the handler either whole (`text()`, `json()`, ...)
 * or through a pull-based `ReadableStream`. The connection reads from the
 * socket only while the queue is below its high-water mark, so a handler
 * that reads slowly slows the client down instead of filling memory.
 *
 * @module
 */

/** What a body tells the connection that feeds it. */
export interface BodyOwner {
  /** The handler started reading: time for `100 Continue`, if it was asked for. */
  bodyWanted(): void;
  /** Queued bytes were taken: the connection may read again. */
  bodyDrained(): void;
}

const EMPTY = new Uint8Array(0);

/** Queued request-body bytes plus the state of their consumer. */
export class BodySource {
  #chunks: Uint8Array[] = [];
  /** Bytes queued and not yet taken. */
  queuedBytes = 0;
  /** Every byte of the body has arrived. */
  complete = false;
  /** Bytes are thrown away as they arrive (the response is already done). */
  discarding = false;
  /** The consumer wants the whole body (`text()` and friends): no high-water mark applies. */
  collecting = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #owner: BodyOwner | null;
  #wanted = false;

  constructor(owner: BodyOwner | null) {
    this.#owner = owner;
  }

  /** A body that arrived whole with its head (or an empty one). */
  static of(chunk: Uint8Array): BodySource {
    const b = new BodySource(null);
    if (chunk.length > 0) {
      b.#chunks.push(chunk);
      b.queuedBytes = chunk.length;
    }
    b.complete = true;
    return b;
  }

  /** Connection side: more bytes arrived. The view is kept, not copied. */
  push(chunk: Uint8Array): void {
    if (this.discarding) return;
    this.#chunks.push(chunk);
    this.queuedBytes += chunk.length;
    this.#notify();
  }

  /** Connection side: the body is complete. */
  end(): void {
    this.complete = true;
    this.#notify();
  }

  /** Connection side: the body will never complete (client gone, bad framing). */
  fail(error: Error): void {
    if (this.complete) return;
    this.#error = error;
    this.#notify();
  }

  /**
   * A body no `Request` can carry (GET, HEAD): read it to its end and drop it,
   * however long, so the connection stays usable (as each runtime's own
   * server does). `maxBodyBytes` and the body timeouts still bound it.
   */
  readThrough = false;

  /** Drops this body as it arrives, to its end ({@linkcode readThrough}). */
  drop(): void {
    this.readThrough = true;
    this.discard();
  }

  /** Connection side: nobody will read the rest; drop what is queued and what comes. */
  discard(): void {
    this.discarding = true;
    this.#chunks.length = 0;
    this.queuedBytes = 0;
  }

  #notify(): void {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
    }
  }

  #want(): void {
    if (!this.#wanted) {
      this.#wanted = true;
      this.#owner?.bodyWanted();
    }
  }

  /** Takes the next chunk; `null` at the end. Throws the failure, if any. */
  async read(): Promise<Uint8Array | null> {
    this.#want();
    while (true) {
      if (this.#chunks.length > 0) {
        const c = this.#chunks.shift()!;
        this.queuedBytes -= c.length;
        this.#owner?.bodyDrained();
        return c;
      }
      if (this.#error !== null) throw this.#error;
      if (this.complete) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /**
   * The whole body as one array. When it has fully arrived already (the
   * common case for small bodies) no promise is awaited.
   */
  all(): Uint8Array | Promise<Uint8Array> {
    if (this.complete && this.#error === null) return this.#drainAll();
    return this.#allAsync();
  }

  async #allAsync(): Promise<Uint8Array> {
    this.#want();
    // The whole body is wanted (it is bounded by maxBodyBytes): let the
    // connection keep reading past the high-water mark.
    this.collecting = true;
    this.#owner?.bodyDrained();
    while (!this.complete) {
      if (this.#error !== null) throw this.#error;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    if (this.#error !== null) throw this.#error;
    return this.#drainAll();
  }

  #drainAll(): Uint8Array {
    const chunks = this.#chunks;
    let out: Uint8Array;
    if (chunks.length === 0) out = EMPTY;
    else if (chunks.length === 1) out = chunks[0];
    else {
      out = new Uint8Array(this.queuedBytes);
      let p = 0;
      for (const c of chunks) {
        out.set(c, p);
        p += c.length;
      }
    }
    this.#chunks = [];
    this.queuedBytes = 0;
    this.#owner?.bodyDrained();
    return out;
  }

  /** A pull-based stream over this body: one socket chunk per pull. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const c = await this.read();
          if (c === null) controller.close();
          // A copy: `c` is a view into the socket's read buffer, and its
          // `.buffer` must not show the handler bytes beyond this chunk.
          else controller.enqueue(new Uint8Array(c));
        } catch (e) {
          controller.error(e);
        }
      },
      cancel: () => this.discard(),
    }, { highWaterMark: 0 });
  }
}
