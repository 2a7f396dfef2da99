/**
 * One `Bun.listen` socket as a core {@linkcode Socket}: Bun's handler
 * callbacks in, an ordered unsent tail out.
 *
 * @module
 */

import type { Socket, SocketEvents } from "../../src/socket.ts";
import { oneLineName, type TlsInfo } from "../../src/tls.ts";
import type { BunSocket as BunTcpSocket } from "./types.ts";

/** A Bun socket whose `data` slot holds our wrapper. */
export type BunSocket_ = BunTcpSocket<BunSocket>;

const EVENTS_NOT_STARTED: SocketEvents = {
  data() {},
  drain() {},
  end() {},
  close() {},
};

/** A peer FIN that arrived while paused or before start: delivered after the held data. */
const HELD_END = null;

// BunSocket's flags.
const STARTED = 1;
/** `write()` returned false: the core waits for `drain`. */
const NEED_DRAIN = 2;
/** The core paused reading. */
const PAUSED = 4;
/** Bun's socket itself is paused (a read arrived while we were). */
const SOCKET_PAUSED = 8;
const CLOSED = 16;
/** `close` went to the core (or will, at `start()`). */
const CLOSE_DELIVERED = 32;
/** `end()` was called: FIN once the tail is out. */
const ENDING = 64;
const ENCRYPTED = 128;
/** Accepted on a Unix socket. */
const UNIX = 256;

/**
 * One Bun TCP socket. Bun's `write()` takes what the kernel accepts and
 * returns that count, buffering nothing: the unsent tail is kept here, in
 * order, and finished on Bun's `drain`, never dropped. `end()` waits for the
 * tail too (Bun's own `end()` would drop it), then half-closes with
 * `shutdown()`: Bun's `end()` closes the socket at once, even with
 * `allowHalfOpen`, while `shutdown()` sends FIN, keeps reading, and closes
 * when the peer's FIN arrives, as Node's `end()` does. (Bun then reports
 * `close` without an `end` first.)
 *
 * Bun hands each `data` callback a fresh Buffer of exactly the bytes read
 * (its own ArrayBuffer, offset 0), so ownership passes to the core without a
 * copy. Bun also calls `drain` when nothing was pending (once after open):
 * only a drain after `write()` returned false reaches the core. `close` is
 * delivered asynchronously (Bun's `terminate()` runs the close handler
 * synchronously), never from inside a method the core called, as on Node.
 */
export class BunSocket implements Socket {
  #s: BunSocket_;
  #events: SocketEvents = EVENTS_NOT_STARTED;
  /**
   * The unsent tail, in order; null when empty. This and `#held` are made
   * on first use: an idle connection holds neither.
   */
  #tail: Uint8Array[] | null = null;
  /** Data (and `HELD_END` for a FIN) that came while paused or before start. */
  #held: (Uint8Array | typeof HELD_END)[] | null = null;
  /**
   * The booleans, as bits of one number (see `STARTED` ...): an idle
   * connection is mostly its objects' fields, and JavaScriptCore gives each
   * field 8 bytes.
   */
  #flags: number;
  /** Kept: Bun's `remotePort` reads `undefined` once the socket closed (its addresses do not). */
  readonly remotePort: number;

  /**
   * @param s Bun's socket
   * @param encrypted whether it is TLS
   * @param unix whether it came in on a Unix socket (its local address is then `localhost`)
   */
  constructor(s: BunSocket_, encrypted = false, unix = false) {
    this.#s = s;
    this.#flags = (encrypted ? ENCRYPTED : 0) | (unix ? UNIX : 0);
    this.remotePort = unix ? 0 : (s.remotePort ?? 0);
  }

  /** Read from Bun's socket when asked (a string each time), not kept: most requests never ask. */
  get remoteAddress(): string {
    return (this.#flags & UNIX) !== 0 ? "" : (this.#s.remoteAddress ?? "");
  }

  get localAddress(): string {
    return (this.#flags & UNIX) !== 0 ? "localhost" : (this.#s.localAddress ?? "");
  }

  get localPort(): number {
    return (this.#flags & UNIX) !== 0 ? 0 : (this.#s.localPort ?? 0);
  }

  get encrypted(): boolean {
    return (this.#flags & ENCRYPTED) !== 0;
  }

  /** Whether the client's certificate verified (TLS: see {@linkcode BunTlsSocket}). */
  protected peerAuthorized(): boolean {
    return false;
  }

  tlsInfo(): TlsInfo {
    const s = this.#s;
    const x509 = s.getPeerX509Certificate?.();
    const alpn = s.alpnProtocol;
    return {
      protocol: s.getTLSVersion?.() ?? null,
      alpnProtocol: typeof alpn === "string" ? alpn : null,
      serverName: s.getServername?.() || null,
      authorized: this.peerAuthorized(),
      peerCertificate: x509 !== undefined
        ? {
          subject: oneLineName(x509.subject),
          issuer: oneLineName(x509.issuer),
          fingerprint256: x509.fingerprint256,
          validTo: x509.validTo,
          serialNumber: x509.serialNumber,
        }
        : null,
    };
  }

  /** Always: Bun's `write()` copies what it takes, and what it does not take is kept in `#tail` (and `write()` returns false). */
  copied(): boolean {
    return true;
  }

  start(events: SocketEvents): void {
    if ((this.#flags & STARTED) !== 0) throw new Error("Socket.start() called twice");
    this.#flags |= STARTED;
    this.#events = events;
    if (this.#held !== null && (this.#flags & PAUSED) === 0) queueMicrotask(() => this.#deliverHeld());
    if ((this.#flags & (CLOSED | CLOSE_DELIVERED)) === (CLOSED | CLOSE_DELIVERED)) queueMicrotask(() => events.close());
  }

  write(bytes: Uint8Array): boolean {
    if ((this.#flags & (CLOSED | ENDING)) !== 0) return false;
    if (this.#tail !== null) {
      this.#tail.push(bytes);
      this.#flags |= NEED_DRAIN;
      return false;
    }
    if (bytes.length === 0) return true;
    const n = this.#s.write(bytes);
    if (n >= bytes.length) return true;
    if (n < 0) {
      // Closed underneath us (a reset peer). Bun does not always report
      // `close` for it while we are writing, so end the socket ourselves.
      this.destroy();
      return false;
    }
    this.#tail = [n === 0 ? bytes : bytes.subarray(n)];
    this.#flags |= NEED_DRAIN;
    return false;
  }

  /**
   * The socket itself stops reading only once a read arrives while paused
   * (it is held): until then a peer's FIN reaches the core at once (a paused
   * Bun socket reports no FIN; its reset it does report).
   */
  pause(): void {
    if ((this.#flags & PAUSED) !== 0) return;
    this.#flags |= PAUSED;
    if ((this.#flags & CLOSED) === 0 && this.#held !== null) this.#pauseSocket();
  }

  #pauseSocket(): void {
    if ((this.#flags & SOCKET_PAUSED) !== 0) return;
    this.#flags |= SOCKET_PAUSED;
    this.#s.pause();
  }

  resume(): void {
    if ((this.#flags & PAUSED) === 0) return;
    this.#flags &= ~PAUSED;
    if ((this.#flags & CLOSED) !== 0) return;
    if ((this.#flags & SOCKET_PAUSED) !== 0) {
      this.#flags &= ~SOCKET_PAUSED;
      this.#s.resume();
    }
    // Never deliver from inside resume(): the core may be mid-update.
    if (this.#held !== null) queueMicrotask(() => this.#deliverHeld());
  }

  end(): void {
    if ((this.#flags & (CLOSED | ENDING)) !== 0) return;
    this.#flags |= ENDING;
    if (this.#tail === null) this.#s.shutdown();
  }

  destroy(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    this.#tail = null;
    this.#held = null;
    this.#s.terminate(); // runs onClose synchronously; it defers the event
    this.onClose();
  }

  #deliverHeld(): void {
    const held = this.#held;
    if (held === null) return;
    while (held.length > 0 && (this.#flags & (PAUSED | CLOSED | STARTED)) === STARTED) {
      const item = held.shift()!;
      if (item === HELD_END) this.#events.end();
      else this.#events.data(item);
    }
    // Emptied (not replaced meanwhile: only close() replaces it, with null).
    if (held.length === 0 && this.#held === held) this.#held = null;
  }

  /** Bun: the kernel can take more. Send the tail, then tell the core. */
  onDrain(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    const tail = this.#tail;
    if (tail !== null) {
      while (tail.length > 0) {
        const b = tail[0];
        const n = this.#s.write(b);
        if (n < 0) {
          this.destroy();
          return;
        }
        if (n < b.length) {
          tail[0] = b.subarray(n);
          return;
        }
        tail.shift();
      }
      this.#tail = null;
    }
    if ((this.#flags & ENDING) !== 0) {
      this.#s.shutdown();
      return;
    }
    if ((this.#flags & NEED_DRAIN) !== 0) {
      this.#flags &= ~NEED_DRAIN;
      this.#events.drain();
    }
  }

  onData(bytes: Uint8Array): void {
    if ((this.#flags & CLOSED) !== 0) return;
    if ((this.#flags & PAUSED) !== 0 || (this.#flags & STARTED) === 0 || this.#held !== null) {
      (this.#held ??= []).push(bytes);
      if ((this.#flags & PAUSED) !== 0) this.#pauseSocket();
    } else this.#events.data(bytes);
  }

  onEnd(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    // A FIN behind nothing held is delivered even while paused: the peer
    // left, and the core must know now, not at resume().
    if ((this.#flags & STARTED) === 0 || this.#held !== null) (this.#held ??= []).push(HELD_END);
    else this.#events.end();
  }

  onError(): void {
    // Never thrown: the socket is cut, and `close` follows.
    if ((this.#flags & CLOSED) === 0) this.destroy();
  }

  onClose(): void {
    this.#flags |= CLOSED;
    if ((this.#flags & CLOSE_DELIVERED) !== 0) return;
    this.#flags |= CLOSE_DELIVERED;
    this.#tail = null;
    this.#held = null;
    if ((this.#flags & STARTED) === 0) return; // start() delivers it
    const events = this.#events;
    queueMicrotask(() => events.close());
  }
}

/** A TLS socket: the handshake's timer and outcome, which the listener sets. */
export class BunTlsSocket extends BunSocket {
  /** The listener's handshake timer, until the handshake is done. */
  handshakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Whether the client's certificate verified (set at handshake). */
  authorized = false;

  protected override peerAuthorized(): boolean {
    return this.authorized;
  }
}
