/**
 * anyserve on Deno: the core bound to `Deno.listen` / `Deno.Conn`.
 *
 * @example
 * ```ts
 * import { serve } from "anyserve/deno";
 * serve({ fetch: () => new Response("Hello"), port: 3000 });
 * ```
 *
 * @module
 */

import type { Listener, ListenOptions, Socket, SocketEvents } from "../src/socket.ts";
import { type ClusterTransport, MESSAGE_PREFIX, type ProcessControl, WORKER_ID_ENV, WORKER_PORT_ENV, type WorkerEvents, type WorkerHandle } from "../src/process.ts";
import type { Server } from "../src/server.ts";
import { serveWith } from "../src/serve.ts";
import type { ServeOptions } from "../src/options.ts";

import type { DenoConn, DenoListener, DenoNamespace } from "./_types/deno.ts";
export type { ClusterServer, WorkerInfo } from "../src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";

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
  readSlab.set(src.subarray(0, n), readSlabPos);
  const view = readSlab.subarray(readSlabPos, readSlabPos + n);
  readSlabPos += n;
  return view;
}

const EVENTS_NOT_STARTED: SocketEvents = { data() {}, drain() {}, end() {}, close() {} };

/** Read buffer sizes: small while requests are small, grown while reads fill it. */
const MIN_READ_BYTES = 2 * 1024;
const MAX_READ_BYTES = 64 * 1024;
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
class DenoSocket implements Socket {
  #conn: DenoConn;
  #events: SocketEvents = EVENTS_NOT_STARTED;
  #readSize = MIN_READ_BYTES;
  #reading = false;
  #paused = false;
  /** A read that completed after `pause()`: delivered on `resume()`. */
  #held: Uint8Array | null = null;
  /** The peer's FIN was read (`end` delivered or held). */
  #readEnded = false;
  #endHeld = false;
  /** Our FIN went out. */
  #writeEnded = false;
  #closed = false;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #needDrain = false;
  #endAfterWrites = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Turn TCP keep-alive on at start (Deno takes no idle time: the OS default applies). */
  keepAlive = false;

  constructor(conn: DenoConn) {
    this.#conn = conn;
    this.remoteAddress = conn.remoteAddr.hostname;
    this.remotePort = conn.remoteAddr.port;
    this.localAddress = conn.localAddr.hostname;
    this.localPort = conn.localAddr.port;
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
    try {
      while (!this.#paused && !this.#closed && !this.#readEnded) {
        const n = await this.#conn.read(buf);
        if (this.#closed) break;
        if (n === null) {
          this.#readEnded = true;
          if (this.#paused) this.#endHeld = true;
          else this.#events.end();
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
        if (n === buf.length && buf.length < MAX_READ_BYTES) buf = new Uint8Array((this.#readSize = buf.length * 2));
        else if (n < buf.length >> 3 && buf.length > MIN_READ_BYTES) buf = new Uint8Array((this.#readSize = buf.length >> 1));
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
    if (this.#writing) this.#queue.push(bytes);
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
    this.#conn.write(chunk).then((n) => this.#sent(chunk, n), () => this.#close());
  }

  /** One write finished: finish a partial one, send what queued meanwhile, or report drain. */
  #sent(chunk: Uint8Array, n: number): void {
    if (this.#closed) return;
    this.#queuedBytes -= n;
    // conn.write may take less than it was given.
    if (n < chunk.length) return this.#send(chunk.subarray(n));
    const queue = this.#queue;
    if (queue.length > 0) {
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
      this.#queue = [];
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
      if (this.#endHeld) {
        this.#endHeld = false;
        this.#events.end();
        return;
      }
      this.#readLoop();
    });
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
    this.#queue = [];
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

function deno(): DenoNamespace {
  const d = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (d === undefined) throw new Error("adapters/deno.ts needs the Deno runtime: use anyserve/node or anyserve/bun elsewhere");
  return d;
}

/**
 * Deno keeps a Response's fixed body (from a string or bytes) where
 * `Deno.serve` itself reads it to skip the stream: in the "serve fast body"
 * slot while the Response is untouched, else as `{ body, consumed }` in its
 * internal state once something (a header read, say) materialized it. Find
 * both slots once, by probing Responses of our own; if this Deno lays them
 * out differently, a probe fails and the core reads the body stream as
 * usual. Always read before `response.body`, which turns either into a
 * stream.
 */
type Slots = Record<symbol, unknown>;
interface InnerResponse {
  body?: { streamOrStatic?: { body?: unknown; consumed?: boolean } } | null;
}
const symbolNamed = (o: object, name: string) => Object.getOwnPropertySymbols(o).find((s) => s.description === name);
const slots = (() => {
  try {
    const fresh = new Response("probe");
    const fastBody = symbolNamed(fresh, "serve fast body");
    const fastConsumed = symbolNamed(fresh, "serve fast consumed");
    const fastOk = fastBody !== undefined && fastConsumed !== undefined &&
      (fresh as unknown as Slots)[fastBody] === "probe" && (fresh as unknown as Slots)[fastConsumed] === false;
    const touched = new Response("probe");
    touched.headers.get("content-type"); // materializes the inner body
    const inner = symbolNamed(touched, "response");
    const sos = inner === undefined ? undefined : ((touched as unknown as Slots)[inner] as InnerResponse).body?.streamOrStatic;
    const innerOk = sos?.body === "probe" && sos.consumed === false;
    return {
      fastBody: fastOk ? fastBody : undefined,
      fastConsumed: fastOk ? fastConsumed : undefined,
      inner: innerOk ? inner : undefined,
    };
  } catch {
    return { fastBody: undefined, fastConsumed: undefined, inner: undefined };
  }
})();

function staticBody(response: Response): string | Uint8Array | null {
  const r = response as unknown as Slots;
  // A body someone started reading is theirs, not a fixed one any more.
  if (response.bodyUsed) return null;
  if (slots.fastBody !== undefined && r[slots.fastConsumed!] === false) {
    const fast = r[slots.fastBody];
    if (typeof fast === "string" || fast instanceof Uint8Array) {
      r[slots.fastConsumed!] = true;
      return fast;
    }
  }
  if (slots.inner === undefined) return null;
  const sos = (r[slots.inner] as InnerResponse | undefined)?.body?.streamOrStatic;
  if (sos === undefined || sos.consumed !== false) return null;
  const body = sos.body;
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return null;
  sos.consumed = true;
  return body;
}

/** The process parts of the `Deno` namespace, typed structurally (shapes of Deno 2). */
interface DenoProcessApi {
  readonly mainModule: string;
  readonly args: string[];
  execPath(): string;
  exit(code: number): never;
  env: { get(name: string): string | undefined };
  permissions: { querySync(descriptor: { name: string; variable?: string; command?: string }): { state: string } };
  stdin: { readable: ReadableStream<Uint8Array> };
  stdout: { writeSync(p: Uint8Array): number };
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  Command: new (
    command: string,
    options: { args: string[]; env: Record<string, string>; stdin: "piped"; stdout: "piped"; stderr: "inherit" },
  ) => {
    spawn(): {
      readonly pid: number;
      readonly stdin: WritableStream<Uint8Array>;
      readonly stdout: ReadableStream<Uint8Array>;
      readonly status: Promise<{ code: number; signal: string | null }>;
      kill(signal?: string): void;
    };
  };
}

function denoProc(): DenoProcessApi {
  return deno() as unknown as DenoProcessApi;
}

const PERMISSIONS = ["read", "write", "net", "env", "run", "sys", "ffi", "import"] as const;

/**
 * The flags a worker runs with: `--unstable-net` (for reusePort), the
 * permission kinds this process holds in full (`-A` when it holds all), and
 * read access to the two worker variables. Deno cannot tell a script its own
 * command line, so permissions granted only for some values
 * (`--allow-net=host`), `--config` and other flags are not passed on.
 */
function workerFlags(d: DenoProcessApi): string[] {
  const granted = PERMISSIONS.filter((name) => {
    try {
      return d.permissions.querySync({ name }).state === "granted";
    } catch {
      return false;
    }
  });
  const flags = ["run", "--unstable-net", "--no-prompt"];
  if (granted.length === PERMISSIONS.length) return [...flags, "-A"];
  for (const name of granted) flags.push(`--allow-${name}`);
  if (!granted.includes("env")) flags.push(`--allow-env=${WORKER_ID_ENV},${WORKER_PORT_ENV}`);
  return flags;
}

/** Splits a byte stream into lines; calls `line` for each (without the newline). */
async function readLines(stream: ReadableStream<Uint8Array>, line: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        line(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
  } catch {
    // the other side is gone
  }
  if (buffered !== "") line(buffered);
}

/**
 * Deno's {@linkcode ProcessControl}. Deno has no IPC, so messages are lines
 * on pipes: the worker's stdout (its own output shares it; the primary
 * passes every line that is not a message on to its stdout) and its stdin
 * (the primary's messages; end of input means the primary is gone).
 */
function denoProcesses(): ProcessControl {
  const encoder = new TextEncoder();
  const writeAll = (bytes: Uint8Array) => {
    const out = denoProc().stdout;
    let off = 0;
    while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
  };
  return {
    env(name) {
      const d = denoProc();
      try {
        if (d.permissions.querySync({ name: "env", variable: name }).state !== "granted") return undefined;
        return d.env.get(name);
      } catch {
        return undefined;
      }
    },
    assertCanSpawn() {
      const d = denoProc();
      if (!("listenDatagram" in d)) {
        throw new Error(
          "Deno workers listen with reusePort, which needs the --unstable-net flag: run `deno run --unstable-net ...` (workers are spawned with it)",
        );
      }
      if (d.permissions.querySync({ name: "run", command: d.execPath() }).state !== "granted") {
        throw new Error(`Deno workers are spawned with ${d.execPath()}: grant --allow-run (or -A)`);
      }
    },
    spawnWorker(env: Record<string, string>, events: WorkerEvents): WorkerHandle {
      const d = denoProc();
      const child = new d.Command(d.execPath(), {
        args: [...workerFlags(d), d.mainModule, ...d.args],
        env,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      let exited = false;
      const stdin = child.stdin.getWriter();
      stdin.closed.catch(() => {});
      readLines(child.stdout, (text) => {
        if (text.startsWith(MESSAGE_PREFIX)) events.message(text);
        else writeAll(encoder.encode(text + "\n"));
      });
      child.status.then((status) => {
        exited = true;
        events.exit(status.signal === null ? status.code : null, status.signal);
      });
      return {
        pid: child.pid,
        send(line) {
          if (!exited) stdin.write(encoder.encode(line + "\n")).catch(() => {});
        },
        kill(signal) {
          if (exited) return;
          try {
            child.kill(signal);
          } catch {
            // already gone
          }
        },
      };
    },
    connectPrimary(events) {
      readLines(denoProc().stdin.readable, (line) => events.message(line)).then(() => events.disconnect());
      return {
        send(line) {
          writeAll(encoder.encode(line + "\n"));
          return Promise.resolve();
        },
      };
    },
    exit(code) {
      denoProc().exit(code);
    },
  };
}

/** The Deno transport: `Deno.listen` plus an accept loop. */
export const denoTransport: ClusterTransport = {
  runtime: "deno",
  staticBody,
  onSignals(signals, handler) {
    const d = denoProc();
    for (const s of signals) d.addSignalListener(s, handler);
    return () => {
      for (const s of signals) d.removeSignalListener(s, handler);
    };
  },
  processes: denoProcesses(),
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    let listener: DenoListener;
    try {
      const d = deno();
      if (options.reusePort === true && !("listenDatagram" in d)) {
        // Deno.listen({ reusePort: true }) without --unstable-net does not
        // throw: Deno prints an error and exits the process (code 70). The
        // unstable-net APIs (listenDatagram) are only present under the flag.
        throw new Error("reusePort on Deno needs the --unstable-net flag (Deno.listen({ reusePort: true }) is unstable): run deno with --unstable-net");
      }
      listener = d.listen({
        hostname: options.hostname,
        port: options.port,
        transport: "tcp",
        ...(options.reusePort === true ? { reusePort: true } : {}),
      });
    } catch (e) {
      return Promise.reject(e);
    }
    let open = true;
    const keepAlive = (options.tcpKeepAliveMs ?? 0) > 0;
    (async () => {
      while (open) {
        let conn: DenoConn;
        try {
          conn = await listener.accept();
        } catch (e) {
          if (!open || (e instanceof Error && e.name === "BadResource")) return;
          // A failed accept (EMFILE, a reset before accept) must not stop the
          // server, nor spin: try again shortly.
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        if (!open) {
          try {
            conn.close();
          } catch {
            // already closed
          }
          return;
        }
        const socket = new DenoSocket(conn);
        socket.keepAlive = keepAlive;
        onSocket(socket);
      }
    })();
    return Promise.resolve({
      address: { hostname: listener.addr.hostname, port: listener.addr.port },
      close: () => {
        open = false;
        try {
          listener.close();
        } catch {
          // already closed
        }
      },
    });
  },
};

/**
 * Serves `options.fetch` over HTTP/1.1 with `Deno.listen`.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(denoTransport, options);
}
