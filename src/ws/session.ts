/**
 * The server side of an open WebSocket (RFC 6455 §5..§7): one object per
 * connection that takes over the socket after the 101 (it is the
 * {@linkcode Protocol} of the seam; `attach` returns its {@linkcode ProtocolEvents}), runs
 * the frame parser, and offers the application Bun's shape of a socket:
 * `send()` answering with a status, `bufferedAmount`, `drain`, `close()`,
 * `ping()`, `cork()`.
 *
 * - Backpressure: `send` returns the bytes written, -1 when they were
 *   queued but the socket is over its high-water mark (a `drain` follows),
 *   or 0 when the message was dropped (socket not open, or the per-socket
 *   limit `backpressureLimit` reached; with `closeOnBackpressureLimit` the
 *   connection is then dropped).
 * - Frames written during one read (echoes, auto pongs, sends from the
 *   message handler) leave in one socket write: consecutive views of the
 *   shared output slab are adjacent, so they are joined without a copy.
 * - Timers are the server's sweep (`sweep(now)`, about once a second): idle
 *   timeout (any received byte, pongs included, counts as activity),
 *   server pings after `pingIntervalMs` of quiet, and the close handshake's
 *   deadline, after which the socket is destroyed.
 * - The close handler runs exactly once, when the socket is gone, with the
 *   code of the close frame received, the code the server failed the
 *   connection with (1002, 1007, 1009), or 1006 when no close frame came.
 *
 * @module
 */

import { scratch } from "../http/writer.ts";
import type { DeflateCodec, DeflateCodecFactory } from "./codec.ts";
import {
  closePayload,
  encodeText,
  FrameParser,
  frameHeadSize,
  isValidCloseCode,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  writeFrame,
  writeFrameHead,
} from "./frame.ts";
import type { FrameHandler } from "./frame.ts";
import type { DeflateParams } from "./handshake.ts";
import type { Protocol, ProtocolEvents, Socket } from "./seam.ts";
import { isValidUtf8 } from "./utf8.ts";

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/** Largest message accepted by default: Bun's `maxPayloadLength` default (16 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Idle limit by default: Bun's `idleTimeout` default (120 s). */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
/**
 * Quiet time before the server pings: a quarter of the idle limit, so a
 * live peer answers several pings before the idle limit could close it.
 */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** How long the close handshake may take before the socket is destroyed. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** Queued bytes per socket beyond which `send` drops: Bun's `backpressureLimit` default (16 MiB). */
export const DEFAULT_BACKPRESSURE_LIMIT = 16 * 1024 * 1024;
/** Messages below this size are sent uncompressed (deflate costs more than it saves on them). */
export const DEFAULT_COMPRESS_THRESHOLD = 128;
/**
 * Payloads up to this size are copied into the output slab with their
 * header (one write); larger ones are written as a view of their own. A
 * quarter of the 64 KiB slab (src/http/writer.ts), so a copy seldom makes
 * the builder start or grow a slab.
 */
const COPY_MAX = 16 * 1024;

/** Settings of a WebSocket connection; every field is optional. */
export interface WebSocketOptions {
  /** Largest message (inflated size when compressed); over it the connection fails with 1009. */
  maxMessageBytes?: number;
  /** Close (1001) after this long without a byte from the peer; 0: never. */
  idleTimeoutMs?: number;
  /** Ping after this long without a byte from the peer; 0: no server pings. */
  pingIntervalMs?: number;
  /** Destroy the socket when the close handshake takes longer than this. */
  closeTimeoutMs?: number;
  /** Bytes queued while the socket is over its high-water mark beyond which `send` drops the message. */
  backpressureLimit?: number;
  /** Drop the connection (close code 1006) instead of the message when the limit is reached. */
  closeOnBackpressureLimit?: boolean;
  /**
   * Ordered handling: while a `message` handler's promise is pending, no
   * further message is delivered and the socket stops reading (TCP flow
   * control then slows the peer).
   */
  ordered?: boolean;
  /** permessage-deflate codec factory, used when the handshake agreed on the extension. */
  deflate?: DeflateCodecFactory;
  /** Messages shorter than this are sent uncompressed. */
  compressThreshold?: number;
}

/** The application's callbacks (Bun's `websocket` object shape). */
export interface WebSocketHandler<T = unknown> {
  open?(ws: WebSocketSession<T>): void;
  /**
   * Text arrives as a string, binary as a Uint8Array the handler may keep,
   * whose `buffer` holds exactly the message (as Bun's Buffer does).
   */
  message?(ws: WebSocketSession<T>, message: string | Uint8Array): void | Promise<void>;
  /** The socket went below its high-water mark after `send` returned -1. */
  drain?(ws: WebSocketSession<T>): void;
  /** Exactly once per opened socket. */
  close?(ws: WebSocketSession<T>, code: number, reason: string): void;
  ping?(ws: WebSocketSession<T>, data: Uint8Array): void;
  pong?(ws: WebSocketSession<T>, data: Uint8Array): void;
  /** A handler threw or its promise rejected. Default: `console.error`. */
  error?(ws: WebSocketSession<T>, error: unknown): void;
}

/**
 * What a session tells the server it belongs to (`src/ws/hub.ts`): its end,
 * and its topics for `subscribe` / `publish`.
 */
export interface SessionOwner {
  /** The session took over its socket (after the 101). */
  sessionOpened(ws: WebSocketSession<any>): void;
  /** The session is closed (after its close handler ran). */
  sessionClosed(ws: WebSocketSession<any>, code: number): void;
  subscribe(ws: WebSocketSession<any>, topic: string): void;
  unsubscribe(ws: WebSocketSession<any>, topic: string): void;
  /** Sends to every subscriber of `topic` but `except`; returns like `send`. */
  publish(topic: string, message: string | ArrayBufferView | ArrayBuffer, compress: boolean, except: WebSocketSession<any> | null): number;
}

/** What the handshake agreed on (see `acceptUpgrade`). */
export interface Negotiated {
  protocol?: string;
  extensions?: string;
  deflate?: DeflateParams | null;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** One server-side WebSocket. Create it at upgrade time; the seam calls `attach`. */
export class WebSocketSession<T = unknown> implements Protocol, FrameHandler {
  /** The application's value, given at upgrade (Bun's `ws.data`). */
  data: T;
  /** The agreed subprotocol, or `""`. */
  readonly protocol: string;
  /** The agreed extensions (the `Sec-WebSocket-Extensions` answer), or `""`. */
  readonly extensions: string;
  /** CONNECTING (0) until attached, OPEN (1), CLOSING (2), CLOSED (3). */
  readyState: number = CONNECTING;
  /** Messages received and sent, and bytes on the wire each way (frames included). */
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;

  /** @internal The server this session belongs to, if any (topics, statistics). */
  _owner: SessionOwner | null = null;
  /** @internal Topics subscribed to (see {@linkcode subscribe}). */
  _topics: Set<string> | null = null;

  #socket: Socket | null = null;
  #handler: WebSocketHandler<T>;
  #parser: FrameParser;
  #codec: DeflateCodec | null = null;
  #deflateParams: DeflateParams | null;
  #deflateFactory: DeflateCodecFactory | undefined;

  #max: number;
  #idleMs: number;
  #pingMs: number;
  #closeMs: number;
  #limit: number;
  #closeOnLimit: boolean;
  #ordered: boolean;
  #threshold: number;

  #closeSent = false;
  #closeReceived = false;
  #ended = false;
  #notified = false;
  #code = 1006;
  #reason = "";

  #backpressured = false;
  #buffered = 0;
  #corked = 0;
  #pending: Uint8Array | null = null;

  #active = false;
  #lastActive = -1;
  #lastPing = -1;
  #closeDeadline = -1;
  #resumeFn: (() => void) | null = null;
  #rejectFn: ((e: unknown) => void) | null = null;

  constructor(handler: WebSocketHandler<T>, data: T, negotiated: Negotiated = {}, options: WebSocketOptions = {}) {
    this.#handler = handler;
    this.data = data;
    this.protocol = negotiated.protocol ?? "";
    this.extensions = negotiated.extensions ?? "";
    this.#deflateParams = (options.deflate && negotiated.deflate) || null;
    this.#deflateFactory = options.deflate;
    this.#max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#pingMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#closeMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#limit = options.backpressureLimit ?? DEFAULT_BACKPRESSURE_LIMIT;
    this.#closeOnLimit = options.closeOnBackpressureLimit === true;
    this.#ordered = options.ordered === true;
    this.#threshold = options.compressThreshold ?? DEFAULT_COMPRESS_THRESHOLD;
    this.#parser = new FrameParser(this, { maxMessageBytes: this.#max, deflate: this.#deflateParams !== null });
  }

  // ------------------------------------------------------------ the seam

  /**
   * Takes over the socket after the 101; `buffered` are bytes that followed
   * the upgrade head. Runs `open`, then parses `buffered`, which may already
   * end the socket: the caller routes socket events to the returned object
   * from then on, including a `close` that fired during this call.
   */
  attach(socket: Socket, buffered: Uint8Array): ProtocolEvents {
    this.#socket = socket;
    this.readyState = OPEN;
    this._owner?.sessionOpened(this);
    if (this.#deflateParams !== null && this.#deflateFactory) this.#codec = this.#deflateFactory(this.#deflateParams);
    this.#corked++;
    try {
      this.#handler.open?.(this);
    } catch (e) {
      this.#error(e);
    }
    this.#uncork();
    if (buffered.length > 0 && this.readyState !== CLOSED) this._data(buffered);
    return new SessionEvents(this);
  }

  /** @internal Socket event: bytes arrived. */
  _data(bytes: Uint8Array): void {
    if (this.readyState === CLOSED) return;
    this.#active = true;
    this.bytesIn += bytes.length;
    this.#corked++;
    this.#parser.push(bytes);
    this.#uncork();
  }

  /** @internal Socket event: below the high-water mark again. */
  _drain(): void {
    this.#backpressured = false;
    this.#buffered = 0;
    if (this.readyState !== OPEN) return;
    try {
      this.#handler.drain?.(this);
    } catch (e) {
      this.#error(e);
    }
  }

  /** @internal Socket event: the peer sent FIN. Without a close frame before it, the connection closes 1006. */
  _end(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.#parser.stop();
    this.#endSocket();
  }

  /** @internal Socket event: the socket is gone. Runs the close handler (once). */
  _closed(): void {
    this.#finish();
  }

  /** @internal Server sweep: idle timeout, server pings, close-handshake deadline. */
  _sweep(now: number): void {
    if (this.readyState === CLOSED || this.#socket === null) return;
    if (this.#active || this.#lastActive < 0) {
      this.#lastActive = now;
      this.#active = false;
    }
    if (this.readyState === CLOSING) {
      // The deadline runs from the first sweep after the close began: up to one sweep period late.
      if (this.#closeDeadline < 0) this.#closeDeadline = now + this.#closeMs;
      else if (now >= this.#closeDeadline) this.terminate();
      return;
    }
    const quiet = now - this.#lastActive;
    if (this.#idleMs > 0 && quiet >= this.#idleMs) {
      this.close(1001, "idle timeout");
    } else if (this.#pingMs > 0 && quiet >= this.#pingMs && (this.#lastPing < 0 || now - this.#lastPing >= this.#pingMs)) {
      this.#lastPing = now;
      this.#control(OP_PING, EMPTY);
    }
  }

  /** @internal Server shutdown: close with 1001 (going away); the sweep destroys it if the peer never answers. */
  _shutdown(): void {
    this.close(1001, "server shutting down");
  }

  // ------------------------------------------------------------ the application's API

  /** Peer address, or `""` before attach. */
  get remoteAddress(): string {
    return this.#socket?.remoteAddress ?? "";
  }

  /** Bytes sent but not yet gone: queued over the high-water mark, plus a corked batch. */
  get bufferedAmount(): number {
    return this.#buffered + (this.#pending?.length ?? 0);
  }

  /** {@linkcode bufferedAmount}, as Bun's `ws.getBufferedAmount()`. */
  getBufferedAmount(): number {
    return this.bufferedAmount;
  }

  /** True while the socket is over its high-water mark (until `drain`). */
  get backpressured(): boolean {
    return this.#backpressured;
  }

  /**
   * Sends a message: a string as text, bytes as binary. `compress` (default
   * true) applies when permessage-deflate was agreed. Returns the bytes
   * written, -1 when queued over the high-water mark, 0 when dropped.
   */
  send(message: string | ArrayBufferView | ArrayBuffer, compress = true): number {
    if (typeof message === "string") return this.#send(OP_TEXT, message, compress);
    return this.#send(OP_BINARY, toBytes(message), compress);
  }

  /** Sends a text message (see {@linkcode send}). */
  sendText(text: string, compress = true): number {
    return this.#send(OP_TEXT, text, compress);
  }

  /** Sends a binary message (see {@linkcode send}). */
  sendBinary(data: ArrayBufferView | ArrayBuffer, compress = true): number {
    return this.#send(OP_BINARY, toBytes(data), compress);
  }

  /** Subscribes to `topic` (Bun's `ws.subscribe`): `publish` to it reaches this socket. */
  subscribe(topic: string): void {
    if (this.readyState === CLOSED) return;
    const owner = this.#ownerOrThrow();
    (this._topics ??= new Set()).add(topic);
    owner.subscribe(this, topic);
  }

  /** Unsubscribes from `topic`. */
  unsubscribe(topic: string): void {
    if (this._topics?.delete(topic)) this._owner?.unsubscribe(this, topic);
  }

  /** True when subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return this._topics?.has(topic) === true;
  }

  /** The topics subscribed to. */
  get subscriptions(): string[] {
    return this._topics === null ? [] : [...this._topics];
  }

  /**
   * Sends `message` to every subscriber of `topic` except this socket (Bun's
   * `ws.publish`; with the server's `publishToSelf`, this socket too).
   * Returns like {@linkcode send} summed over the subscribers: 0 when
   * nothing was sent, -1 when some socket is over its high-water mark.
   */
  publish(topic: string, message: string | ArrayBufferView | ArrayBuffer, compress = true): number {
    if (this.readyState !== OPEN) return 0;
    return this.#ownerOrThrow().publish(topic, message, compress, this);
  }

  /** {@linkcode publish} for text. */
  publishText(topic: string, text: string, compress = true): number {
    return this.publish(topic, text, compress);
  }

  /** {@linkcode publish} for bytes. */
  publishBinary(topic: string, data: ArrayBufferView | ArrayBuffer, compress = true): number {
    return this.publish(topic, data, compress);
  }

  #ownerOrThrow(): SessionOwner {
    if (this._owner === null) throw new TypeError("WebSocket topics need a socket upgraded by an anyserve server");
    return this._owner;
  }

  /**
   * @internal Sends a frame built once for several sockets (`publish`):
   * uncompressed, never mutated, not in the shared slab. Returns like `send`.
   */
  _sendFrame(frame: Uint8Array): number {
    if (this.readyState !== OPEN) return 0;
    if (this.#backpressured && this.bufferedAmount + frame.length > this.#limit) {
      if (this.#closeOnLimit) {
        this.#reason = "backpressure limit";
        this.terminate();
      }
      return 0;
    }
    this.messagesOut++;
    this.bytesOut += frame.length;
    return this.#write(frame);
  }

  /** True when permessage-deflate is on for this socket (its frames cannot be shared). */
  get compressed(): boolean {
    return this.#codec !== null;
  }

  /** Sends a ping (payload at most 125 bytes). Returns like {@linkcode send}. */
  ping(data?: string | ArrayBufferView | ArrayBuffer): number {
    if (this.readyState !== OPEN) return 0;
    return this.#control(OP_PING, controlBytes(data));
  }

  /** Sends an unsolicited pong. Returns like {@linkcode send}. */
  pong(data?: string | ArrayBufferView | ArrayBuffer): number {
    if (this.readyState !== OPEN) return 0;
    return this.#control(OP_PONG, controlBytes(data));
  }

  /**
   * Starts the close handshake: sends a close frame and waits for the
   * peer's (the sweep destroys the socket after `closeTimeoutMs`). No
   * message is sent after it.
   */
  close(code = 1000, reason = ""): void {
    if (code !== 1005 && !isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.#sendClose(code, reason);
    if (this.#closeReceived) this.#endSocket();
  }

  /** Drops the connection at once (the close handler gets 1006 unless a close frame came). */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.#pending = null;
    this.#socket?.destroy();
    this.#finish();
  }

  /** Runs `fn` with every frame it sends joined into one socket write. */
  cork<R>(fn: (ws: this) => R): R {
    this.#corked++;
    try {
      return fn(this);
    } finally {
      this.#uncork();
    }
  }

  /** Stops reading from the socket until {@linkcode resume}. */
  pauseReading(): void {
    this.#parser.pause();
    this.#socket?.pause();
  }

  /** Reads again after {@linkcode pauseReading} (or an ordered handler's promise). */
  resume(): void {
    if (this.readyState === CLOSED) return;
    this.#socket?.resume();
    this.#corked++;
    this.#parser.resume();
    this.#uncork();
  }

  // ------------------------------------------------------------ parser events

  /** @internal */
  onMessage(binary: boolean, payload: Uint8Array, compressed: boolean): void {
    if (this.readyState !== OPEN) return;
    if (compressed) {
      const codec = this.#codec;
      if (codec === null) return this.#fail(1002, "compressed frame without permessage-deflate");
      let out: Uint8Array | null;
      try {
        out = codec.inflate(payload, true, this.#max);
      } catch {
        return this.#fail(1007, "invalid compressed data");
      }
      if (out === null) return this.#fail(1009, "message too big");
      payload = out;
      if (!binary && !isValidUtf8(payload)) return this.#fail(1007, "invalid UTF-8 in a text message");
    }
    this.messagesIn++;
    const handler = this.#handler.message;
    if (handler === undefined) return;
    let result: void | Promise<void>;
    try {
      result = handler.call(this.#handler, this, binary ? ownBuffer(payload) : decoder.decode(payload));
    } catch (e) {
      this.#error(e);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === "function") {
      if (this.#ordered) {
        this.#parser.pause();
        this.#socket?.pause();
        this.#resumeFn ??= () => this.resume();
        this.#rejectFn ??= (e) => {
          this.#error(e);
          this.resume();
        };
        (result as Promise<void>).then(this.#resumeFn, this.#rejectFn);
      } else {
        this.#rejectFn ??= (e) => this.#error(e);
        (result as Promise<void>).then(undefined, this.#rejectFn);
      }
    }
  }

  /** @internal */
  onPing(payload: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    this.#control(OP_PONG, payload);
    try {
      this.#handler.ping?.(this, payload);
    } catch (e) {
      this.#error(e);
    }
  }

  /** @internal */
  onPong(payload: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    try {
      this.#handler.pong?.(this, payload);
    } catch (e) {
      this.#error(e);
    }
  }

  /** @internal The peer's close frame: echo it (if ours was not sent), then close TCP (server first, §7.1.1). */
  onClose(code: number, reason: string): void {
    this.#closeReceived = true;
    this.#code = code;
    this.#reason = reason;
    if (this.readyState === OPEN) {
      this.readyState = CLOSING;
      this.#sendClose(code, "");
    }
    this.#endSocket();
  }

  /** @internal The peer broke the protocol: fail the connection with `code` (§7.1.7). */
  onError(code: number, reason: string): void {
    this.#fail(code, reason);
  }

  // ------------------------------------------------------------ internals

  #fail(code: number, reason: string): void {
    this.#parser.stop();
    if (this.readyState === CLOSED) return;
    this.#code = code;
    this.#reason = reason;
    if (!this.#closeSent) this.#sendClose(code, reason);
    this.readyState = CLOSING;
    this.#endSocket();
  }

  #sendClose(code: number, reason: string): void {
    this.#closeSent = true;
    this.#control(OP_CLOSE, closePayload(code, reason));
  }

  #endSocket(): void {
    this.#flushPending();
    if (this.#ended) return;
    this.#ended = true;
    this.#socket?.end();
  }

  #finish(): void {
    if (this.#notified) return;
    this.#notified = true;
    this.readyState = CLOSED;
    this.#parser.stop();
    this.#pending = null;
    this.#codec?.close();
    this.#codec = null;
    try {
      this.#handler.close?.(this, this.#code, this.#reason);
    } catch (e) {
      this.#error(e);
    }
    this._owner?.sessionClosed(this, this.#code);
  }

  #error(e: unknown): void {
    const h = this.#handler.error;
    if (h === undefined) console.error(e);
    else {
      try {
        h.call(this.#handler, this, e);
      } catch (e2) {
        console.error(e2);
      }
    }
  }

  #send(op: number, message: string | Uint8Array, compress: boolean): number {
    if (this.readyState !== OPEN) return 0;
    // Text is encoded into a shared scratch (valid until the next encode) or
    // a fresh array; bytes given by the application are the application's.
    let owned = typeof message === "string" && message.length > 16 * 1024;
    let payload = typeof message === "string" ? encodeText(message) : message;
    let rsv1 = false;
    const codec = this.#codec;
    if (codec !== null && compress && payload.length >= this.#threshold) {
      payload = codec.deflate(payload, true);
      owned = rsv1 = true;
    }
    const size = frameHeadSize(payload.length) + payload.length;
    if (this.#backpressured && this.bufferedAmount + size > this.#limit) {
      if (this.#closeOnLimit) {
        this.#reason = "backpressure limit";
        this.terminate();
      }
      return 0;
    }
    this.messagesOut++;
    return this.#frame(op, payload, rsv1, owned);
  }

  #control(op: number, payload: Uint8Array): number {
    if (this.#socket === null || this.#closeSent && op !== OP_CLOSE) return 0;
    return this.#frame(op, payload, false, false);
  }

  #frame(op: number, payload: Uint8Array, rsv1: boolean, owned: boolean): number {
    const out = scratch;
    const n = payload.length;
    this.bytesOut += frameHeadSize(n) + n;
    if (n <= COPY_MAX) {
      writeFrame(out, op, payload, rsv1);
      return this.#write(out.take());
    }
    writeFrameHead(out, op, n, rsv1, true);
    const head = this.#write(out.take());
    const body = this.#write(owned ? payload : copy(payload));
    return head < 0 || body < 0 ? -1 : head + body;
  }

  #write(v: Uint8Array): number {
    if (this.#corked > 0) {
      const p = this.#pending;
      if (p === null) this.#pending = v;
      else if (p.buffer === v.buffer && p.byteOffset + p.byteLength === v.byteOffset) {
        this.#pending = new Uint8Array(p.buffer, p.byteOffset, p.byteLength + v.byteLength);
      } else {
        this.#flushPending();
        this.#pending = v;
      }
      return this.#backpressured ? -1 : v.length;
    }
    const socket = this.#socket;
    if (socket === null) return 0;
    if (!socket.write(v)) this.#backpressured = true;
    if (this.#backpressured) {
      this.#buffered += v.length;
      return -1;
    }
    return v.length;
  }

  #flushPending(): void {
    const p = this.#pending;
    if (p === null) return;
    this.#pending = null;
    const socket = this.#socket;
    if (socket === null) return;
    if (!socket.write(p)) this.#backpressured = true;
    if (this.#backpressured) this.#buffered += p.length;
  }

  #uncork(): void {
    if (--this.#corked === 0) this.#flushPending();
  }
}

/** The socket events of a session, as the seam delivers them. */
class SessionEvents implements ProtocolEvents {
  #s: WebSocketSession<any>;
  constructor(s: WebSocketSession<any>) {
    this.#s = s;
  }
  data(bytes: Uint8Array): void {
    this.#s._data(bytes);
  }
  drain(): void {
    this.#s._drain();
  }
  end(): void {
    this.#s._end();
  }
  close(): void {
    this.#s._closed();
  }
  sweep(now: number): void {
    this.#s._sweep(now);
  }
  shutdown(): void {
    this.#s._shutdown();
  }
}

/**
 * A message whose `buffer` is exactly its bytes: Bun hands out such a
 * Buffer, and code written for it (`hono/bun` among others) reads
 * `message.buffer`. A view into a larger read is copied.
 */
function ownBuffer(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : copy(b);
}

/** A copy in memory of its own (a Node `Buffer`'s `slice` would be a view). */
function copy(b: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(b);
}

function toBytes(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function controlBytes(data: string | ArrayBufferView | ArrayBuffer | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  const b = typeof data === "string" ? new TextEncoder().encode(data) : toBytes(data);
  if (b.length > 125) throw new RangeError("control frame payload over 125 bytes");
  return b;
}
