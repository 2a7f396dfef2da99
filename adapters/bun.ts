/**
 * anyserve on Bun: the core bound to `Bun.listen` socket handlers.
 *
 * @example
 * ```ts
 * import { serve } from "anyserve/bun";
 * serve({ fetch: () => new Response("Hello"), port: 3000 });
 * ```
 *
 * @module
 */

import type { Listener, ListenOptions, Socket, SocketEvents } from "../src/socket.ts";
import type { ClusterTransport, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";
import type { Server } from "../src/server.ts";
import { serveWith } from "../src/serve.ts";
import type { ServeOptions } from "../src/options.ts";

import type { BunNamespace, BunSocket as BunTcpSocket } from "./_types/bun.ts";
export type { ClusterServer, WorkerInfo } from "../src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";

/** A Bun socket whose `data` slot holds our wrapper. */
type BunSocket_ = BunTcpSocket<BunSocket>;

/** `Bun.peek`: a settled promise's value, synchronously. */
interface BunPeek {
  <T>(promise: Promise<T>): T | Promise<T>;
  status(promise: Promise<unknown>): "pending" | "fulfilled" | "rejected";
}

const EVENTS_NOT_STARTED: SocketEvents = {
  data() {},
  drain() {},
  end() {},
  close() {},
};

/** A peer FIN that arrived while paused or before start: delivered after the held data. */
const HELD_END = null;

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
class BunSocket implements Socket {
  #s: BunSocket_;
  #events: SocketEvents = EVENTS_NOT_STARTED;
  #started = false;
  #tail: Uint8Array[] = [];
  #needDrain = false;
  #paused = false;
  /** Data (and `HELD_END` for a FIN) that came while paused or before start. */
  #held: (Uint8Array | typeof HELD_END)[] = [];
  #closed = false;
  #closeDelivered = false;
  #ending = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;

  constructor(s: BunSocket_) {
    this.#s = s;
    this.remoteAddress = s.remoteAddress ?? "";
    this.remotePort = s.remotePort ?? 0;
    this.localAddress = s.localAddress ?? "";
    this.localPort = s.localPort ?? 0;
  }

  start(events: SocketEvents): void {
    if (this.#started) throw new Error("Socket.start() called twice");
    this.#started = true;
    this.#events = events;
    if (this.#held.length > 0 && !this.#paused) queueMicrotask(() => this.#deliverHeld());
    if (this.#closed && this.#closeDelivered) queueMicrotask(() => events.close());
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#ending) return false;
    if (this.#tail.length > 0) {
      this.#tail.push(bytes);
      this.#needDrain = true;
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
    this.#tail.push(n === 0 ? bytes : bytes.subarray(n));
    this.#needDrain = true;
    return false;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (!this.#closed) this.#s.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#closed) return;
    this.#s.resume();
    // Never deliver from inside resume(): the core may be mid-update.
    if (this.#held.length > 0) queueMicrotask(() => this.#deliverHeld());
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (this.#tail.length === 0) this.#s.shutdown();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tail.length = 0;
    this.#held.length = 0;
    this.#s.terminate(); // runs onClose synchronously; it defers the event
    this.onClose();
  }

  #deliverHeld(): void {
    const held = this.#held;
    while (held.length > 0 && !this.#paused && !this.#closed && this.#started) {
      const item = held.shift()!;
      if (item === HELD_END) this.#events.end();
      else this.#events.data(item);
    }
  }

  /** Bun: the kernel can take more. Send the tail, then tell the core. */
  onDrain(): void {
    if (this.#closed) return;
    const tail = this.#tail;
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
    if (this.#ending) {
      this.#s.shutdown();
      return;
    }
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#events.drain();
    }
  }

  onData(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#paused || !this.#started || this.#held.length > 0) this.#held.push(bytes);
    else this.#events.data(bytes);
  }

  onEnd(): void {
    if (this.#closed) return;
    if (this.#paused || !this.#started || this.#held.length > 0) this.#held.push(HELD_END);
    else this.#events.end();
  }

  onError(): void {
    // Never thrown: the socket is cut, and `close` follows.
    if (!this.#closed) this.destroy();
  }

  onClose(): void {
    this.#closed = true;
    if (this.#closeDelivered) return;
    this.#closeDelivered = true;
    this.#tail.length = 0;
    this.#held.length = 0;
    if (!this.#started) return; // start() delivers it
    const events = this.#events;
    queueMicrotask(() => events.close());
  }
}

function bun(): BunNamespace {
  const b = (globalThis as { Bun?: BunNamespace }).Bun;
  if (b === undefined) throw new Error("adapters/bun.ts needs the Bun runtime: use anyserve/node or anyserve/deno elsewhere");
  return b;
}

/** `Bun.spawn` and `Bun.main`, typed structurally (shapes of Bun 1.4). */
interface BunProcessApi {
  readonly main: string;
  spawn(options: {
    cmd: string[];
    env: Record<string, string | undefined>;
    stdio: ["inherit", "inherit", "inherit"];
    serialization: "json";
    ipc(message: unknown): void;
    onExit(proc: unknown, exitCode: number | null, signalCode: number | string | null, error?: unknown): void;
  }): { readonly pid: number; send(message: unknown): void; kill(signal?: string): void };
}

/**
 * Bun's {@linkcode ProcessControl}: workers are `Bun.spawn` of the same
 * binary, flags (`process.execArgv`), entry (`Bun.main`) and arguments,
 * with Bun's IPC channel (JSON) for the message lines; in the worker it is
 * `process.send` / `process.on("message")`, and `disconnect` fires when
 * the primary dies.
 */
function bunProcesses(): ProcessControl {
  return {
    env: (name) => process.env[name],
    assertCanSpawn() {},
    spawnWorker(env: Record<string, string>, events: WorkerEvents): WorkerHandle {
      const b = bun() as unknown as BunProcessApi;
      let exited = false;
      const child = b.spawn({
        cmd: [process.execPath, ...process.execArgv, b.main, ...process.argv.slice(2)],
        env: { ...process.env, ...env },
        stdio: ["inherit", "inherit", "inherit"],
        serialization: "json",
        ipc(message) {
          if (typeof message === "string") events.message(message);
        },
        onExit(_proc, exitCode, signalCode) {
          exited = true;
          events.exit(exitCode, signalCode === null ? null : String(signalCode));
        },
      });
      return {
        pid: child.pid,
        send(line) {
          if (exited) return;
          try {
            child.send(line);
          } catch {
            // the channel is closing; the exit follows
          }
        },
        kill(signal) {
          if (!exited) child.kill(signal);
        },
      };
    },
    connectPrimary(events) {
      process.on("message", (m: unknown) => {
        if (typeof m === "string") events.message(m);
      });
      process.once("disconnect", () => events.disconnect());
      return {
        send: (line) =>
          new Promise<void>((resolve) => {
            if (process.send === undefined || !process.connected) return resolve();
            process.send(line, undefined, {}, () => resolve());
          }),
      };
    },
    exit(code) {
      process.exit(code);
    },
  };
}

/** The Bun transport: `Bun.listen` with half-open sockets, Nagle off. */
export const bunTransport: ClusterTransport = {
  runtime: "bun",
  peek<T>(promise: Promise<T>): T | Promise<T> {
    // Only a fulfilled value counts: a rejection must still reach the await.
    const peek = (globalThis as { Bun?: { peek: BunPeek } }).Bun!.peek;
    return peek.status(promise) === "fulfilled" ? peek(promise) as T : promise;
  },
  onSignals(signals, handler) {
    for (const s of signals) process.on(s, handler);
    return () => {
      for (const s of signals) process.off(s, handler);
    };
  },
  processes: bunProcesses(),
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    const keepAliveMs = options.tcpKeepAliveMs ?? 0;
    try {
      const listener = bun().listen<BunSocket>({
        hostname: options.hostname,
        port: options.port,
        ...(options.reusePort === true ? { reusePort: true } : {}),
        allowHalfOpen: true,
        socket: {
          open(s) {
            s.setNoDelay(true);
            if (keepAliveMs > 0) (s as { setKeepAlive?: (on: boolean, ms: number) => boolean }).setKeepAlive?.(true, keepAliveMs);
            const socket = new BunSocket(s);
            s.data = socket;
            onSocket(socket);
          },
          data: (s, d) => s.data.onData(d),
          drain: (s) => s.data.onDrain(),
          end: (s) => s.data.onEnd(),
          close: (s) => s.data?.onClose(),
          error: (s) => s.data?.onError(),
        },
      });
      return Promise.resolve({
        address: { hostname: listener.hostname, port: listener.port },
        close: () => listener.stop(false),
      });
    } catch (e) {
      return Promise.reject(e);
    }
  },
};

/**
 * Serves `options.fetch` over HTTP/1.1 with `Bun.listen`.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(bunTransport, options);
}
