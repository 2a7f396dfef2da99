/**
 * One `Deno.Conn` as a core {@linkcode Socket}: a read loop into a buffer
 * sized to the traffic, and an ordered write queue.
 *
 * @module
 */

import type { Socket, SocketEvents } from "../../src/socket.ts";
import type { TlsInfo } from "../../src/tls.ts";
import type { DenoConn } from "./types.ts";

/**
 * Read copies are cut from a shared slab, as Node's Buffer pool does: one
 * allocation per 64 KiB of traffic instead of one per read. A view handed to
 * the core keeps its slab alive; the slab is never written where a view was
 * cut, so views stay valid.
 */
const READ_SLAB_BYTES = 64 * 1024;
let readSlab = new Uint8Array(READ_SLAB_BYTES);
let readSlabPos = 0;
function copyOut(src: Uint8Array, n: number): Uint8Array {
  if (readSlabPos + n > readSlab.length) {
    readSlab = new Uint8Array(Math.max(READ_SLAB_BYTES, n));
    readSlabPos = 0;
  }
  const slab = readSlab;
  const at = readSlabPos;
  // Views made with the constructor, not subarray() (which pays a species
  // lookup): about 30% less per read than two subarray() calls and a set()
  // (in-process loop on Deno 2.9, 40-600 byte reads). A plain loop only for
  // the shortest reads: TypedArray#set's fixed cost is about 16 bytes' worth
  // of loop on V8.
  if (n <= 16) for (let i = 0; i < n; i++) slab[at + i] = src[i];
  else slab.set(n === src.length ? src : new Uint8Array(src.buffer, src.byteOffset, n), at);
  readSlabPos = at + n;
  return new Uint8Array(slab.buffer, at, n);
}

/**
 * Deno's read op, called directly. `Deno.Conn#read` wraps the op in an
 * async function that also adds its promise to a Set (for `unref()`) and
 * deletes it again: a second promise, an await and a Set entry made and
 * dropped on every read, about half a KiB of garbage a keep-alive request
 * (Deno 2.9, sampling heap profiler: `bench/RESULTS.md`). The op is
 * `Deno[Deno.internal].core.read(rid, buffer)`, resolving to the count read
 * and 0 at EOF; the rid is under `core.internalRidSymbol` on each
 * connection. Where any of it is missing, connections read through
 * `conn.read` as before (`readOp` is then null, or a connection's rid is not
 * a number).
 */
interface DenoCore {
  read(rid: number, buffer: Uint8Array): Promise<number>;
  internalRidSymbol: symbol;
}
const readOp: DenoCore | null = (() => {
  try {
    const d = (globalThis as { Deno?: Record<symbol, { core?: Partial<DenoCore> } | undefined> & { internal?: symbol } }).Deno;
    const core = d?.internal === undefined ? undefined : d[d.internal]?.core;
    return typeof core?.read === "function" && typeof core.internalRidSymbol === "symbol" ? core as DenoCore : null;
  } catch {
    return null;
  }
})();

/**
 * Whether sockets started from now on call the read op directly (where this
 * Deno has it). Tests turn it off to run the `conn.read` path on real sockets.
 */
export const directReads = { enabled: true };

const EMPTY_BYTES = new Uint8Array(0);
const EVENTS_NOT_STARTED: SocketEvents = { data() {}, drain() {}, end() {}, close() {} };

/**
 * Read buffer sizes: small while requests are small, grown while reads fill
 * it. An idle connection holds its buffer in the pending read, so the
 * minimum is much of what an idle connection costs: 256 bytes hold an API,
 * curl or load-generator request head in one read. A browser's head (often
 * 400 to 800 bytes) takes one or two reads more on a new connection; the
 * buffer doubles on each full read and stays grown while heads are that
 * large. (1 KiB here measured 0.75 KiB more per idle connection, 10,000
 * connections, `bench/mem_idle.ts`.)
 */
const MIN_READ_BYTES = 256;
const MAX_READ_BYTES = 64 * 1024;
/**
 * Small reads in a row before the buffer halves: more than the one small
 * read that ends a message just over the buffer's size (not tuned further).
 */
const SHRINK_AFTER_READS = 4;
/** Queued output above which `write()` reports backpressure. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * One Deno TCP connection. Deno's reads are pull-based: a loop reads into a
 * buffer owned by this socket (sized to the traffic, so an idle connection
 * holds only a small one) and hands the core a copy of what arrived.
 * Writes are queued and written in order by one write loop, which also
 * finishes partial writes (`conn.write` may take less than it was given).
 *
 * `end()` is Node's half-close: once the queue is out the write side is shut
 * (FIN) and the connection closes when the peer's FIN has been read too.
 * `close` is always delivered asynchronously, never from inside a method the
 * core called, as on Node.
 */
export class DenoSocket implements Socket {
  #conn: DenoConn;
  #events: SocketEvents = EVENTS_NOT_STARTED;
  #readSize = MIN_READ_BYTES;
  #reading = false;
  #paused = false;
  /** A read that completed after `pause()`: delivered on `resume()`. */
  #held: Uint8Array | null = null;
  /** The peer's FIN was read (and `end` delivered). */
  #readEnded = false;
  /** Our FIN went out. */
  #writeEnded = false;
  #closed = false;
  /** Writes waiting behind the one in flight; made on first use (null: none). */
  #queue: Uint8Array[] | null = null;
  #queuedBytes = 0;
  #writing = false;
  /** The write in flight, while one is. */
  #inFlight: Uint8Array = EMPTY_BYTES;
  #onWritten: ((n: number) => void) | null = null;
  #onWriteFailed: (() => void) | null = null;
  #needDrain = false;
  #endAfterWrites = false;
  /** A Unix socket's connection (its addresses are then `localhost` and empty). */
  readonly #unix: boolean;
  /** Turn TCP keep-alive on at start (Deno takes no idle time: the OS default applies). */
  keepAlive = false;
  readonly encrypted: boolean;
  readonly #alpn: string | null;

  /**
   * @param conn the accepted connection (a `Deno.TlsConn` after its handshake when `alpn` is not null)
   * @param alpn on TLS, the ALPN protocol the handshake agreed (`""` for none); null on plain TCP
   * @param unix whether it came in on a Unix socket (its local address is then `localhost`)
   */
  constructor(conn: DenoConn, alpn: string | null = null, unix = false) {
    this.#conn = conn;
    this.encrypted = alpn !== null;
    this.#alpn = alpn;
    this.#unix = unix;
  }

  // Read from the Deno.Conn's own address objects (made once at accept, kept after close), not copied.
  get remoteAddress(): string {
    return this.#unix ? "" : this.#conn.remoteAddr.hostname;
  }

  get remotePort(): number {
    return this.#unix ? 0 : this.#conn.remoteAddr.port;
  }

  get localAddress(): string {
    return this.#unix ? "localhost" : this.#conn.localAddr.hostname;
  }

  get localPort(): number {
    return this.#unix ? 0 : this.#conn.localAddr.port;
  }

  /** What Deno reports of a handshake: the ALPN protocol only (no version, SNI name or client certificate). */
  tlsInfo(): TlsInfo {
    return { protocol: null, alpnProtocol: this.#alpn || null, serverName: null, peerCertificate: null, authorized: false };
  }

  start(events: SocketEvents): void {
    if (this.#events !== EVENTS_NOT_STARTED) throw new Error("Socket.start() called twice");
    this.#events = events;
    try {
      this.#conn.setNoDelay(true);
      if (this.keepAlive) (this.#conn as { setKeepAlive?: (on: boolean) => void }).setKeepAlive?.(true);
    } catch {
      // not fatal
    }
    this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    let buf = new Uint8Array(this.#readSize);
    /** Reads in a row that used under an eighth of the buffer. */
    let small = 0;
    const conn = this.#conn;
    const rid = readOp === null || !directReads.enabled ? undefined : (conn as unknown as Record<symbol, unknown>)[readOp.internalRidSymbol];
    const op = typeof rid === "number" ? readOp : null;
    try {
      // While paused the loop keeps one read outstanding as long as nothing
      // is held: a peer that leaves (FIN, RST) is noticed at once, not at
      // resume(). What that read brings is held, and the loop stops.
      while (!this.#closed && !this.#readEnded && this.#held === null) {
        // The buffer is never empty, so 0 (the op's EOF) and null (conn.read's) both mean the peer's FIN.
        const n = op !== null ? await op.read(rid as number, buf) : await conn.read(buf);
        if (this.#closed) break;
        if (!n) {
          this.#readEnded = true;
          // Everything read before it was delivered: the FIN can be too.
          this.#events.end();
          this.#closeIfDone();
          break;
        }
        // The core owns what it is given: hand it a copy, keep the buffer.
        const chunk = copyOut(buf, n);
        if (this.#paused) {
          // Paused while this read was in flight: keep it for resume().
          this.#held = chunk;
          break;
        }
        this.#events.data(chunk);
        // Grow at once on a full read; shrink only after SHRINK_AFTER_READS
        // small ones in a row. Shrinking on one small read made messages a
        // little over a size (a 1 KiB POST and its head: one full read of
        // 1,024, then the ~150 bytes left) grow and shrink the buffer on
        // every request, two reads and two buffers each.
        if (n === buf.length) {
          small = 0;
          if (buf.length < MAX_READ_BYTES) buf = new Uint8Array((this.#readSize = buf.length * 2));
        } else if (n < buf.length >> 3 && buf.length > MIN_READ_BYTES) {
          if (++small >= SHRINK_AFTER_READS) {
            small = 0;
            buf = new Uint8Array((this.#readSize = buf.length >> 1));
          }
        } else small = 0;
      }
    } catch {
      // Reset by the peer, or interrupted by our own close().
      this.#close();
    } finally {
      this.#reading = false;
    }
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#endAfterWrites) return false;
    if (bytes.length === 0) return this.#queuedBytes <= HIGH_WATER_BYTES;
    this.#queuedBytes += bytes.length;
    if (this.#writing) (this.#queue ??= []).push(bytes);
    else {
      // Nothing in flight: write now, with no queue and no async frame (the
      // keep-alive path writes once per request).
      this.#writing = true;
      this.#send(bytes);
    }
    if (this.#queuedBytes > HIGH_WATER_BYTES) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  #send(chunk: Uint8Array): void {
    this.#inFlight = chunk;
    // The callbacks are made once per socket, not per write (two closures
    // and their context a response, on the keep-alive path).
    this.#conn.write(chunk).then(
      (this.#onWritten ??= (n: number) => this.#sent(n)),
      (this.#onWriteFailed ??= () => this.#close()),
    );
  }

  /** One write finished: finish a partial one, send what queued meanwhile, or report drain. */
  #sent(n: number): void {
    const chunk = this.#inFlight;
    // Not kept once written: a view holds its whole read or output slab.
    this.#inFlight = EMPTY_BYTES;
    if (this.#closed) return;
    this.#queuedBytes -= n;
    // conn.write may take less than it was given.
    if (n < chunk.length) return this.#send(chunk.subarray(n));
    const queue = this.#queue;
    if (queue !== null) {
      // Coalesce what queued up while the last write was in flight.
      let next: Uint8Array;
      if (queue.length === 1) next = queue[0];
      else {
        let size = 0;
        for (const c of queue) size += c.length;
        next = new Uint8Array(size);
        let p = 0;
        for (const c of queue) {
          next.set(c, p);
          p += c.length;
        }
      }
      this.#queue = null;
      return this.#send(next);
    }
    this.#writing = false;
    if (this.#endAfterWrites) {
      this.#shutdownWrite();
      return;
    }
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#events.drain();
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#closed) return;
    // Never deliver from inside resume(): the core may be mid-update.
    queueMicrotask(() => {
      if (this.#closed || this.#paused) return;
      const held = this.#held;
      if (held !== null) {
        this.#held = null;
        this.#events.data(held);
        if (this.#closed || this.#paused) return;
      }
      this.#readLoop();
    });
  }

  /**
   * A zero-length write while nothing else is being written: nothing goes on
   * the wire, but it fails on a reset connection, which then closes. A
   * paused socket holding a read has no read outstanding to notice it.
   */
  probe(): void {
    if (this.#closed || this.#writing || this.#endAfterWrites) return;
    this.#conn.write(EMPTY_BYTES).then(undefined, () => this.#close());
  }

  end(): void {
    if (this.#closed || this.#endAfterWrites) return;
    this.#endAfterWrites = true;
    if (!this.#writing) this.#shutdownWrite();
  }

  /** All queued bytes are out: send FIN, then close once the peer's FIN is in. */
  async #shutdownWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      this.#close();
      return;
    }
    this.#writeEnded = true;
    this.#closeIfDone();
  }

  #closeIfDone(): void {
    if (this.#readEnded && this.#writeEnded) this.#close();
  }

  destroy(): void {
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = null;
    this.#inFlight = EMPTY_BYTES;
    this.#queuedBytes = 0;
    this.#held = null;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    const events = this.#events;
    queueMicrotask(() => events.close());
  }
}
