/**
 * The Node transport: {@linkcode nodeTransport} accepts connections with
 * `node:net` and presents each as a core {@linkcode Socket}.
 *
 * Node already has what the core asks for, so this is a thin mapping:
 * `write()` returns `socket.write()`'s result, Node's `'drain'` is `drain`,
 * `pause()`/`resume()`/`end()`/`destroy()` are Node's own. Reads are Node
 * `Buffer`s, handed over as they are (a `Buffer` is a `Uint8Array`; Node
 * allocates a fresh one per read, so ownership can pass without a copy).
 *
 * Servers are made with `allowHalfOpen: true` so a peer's FIN is reported as
 * `end` and the core decides when to end its side, and with `noDelay: true`.
 * An `'error'` on a socket never throws: it is followed by Node's `'close'`,
 * which is what the core sees.
 *
 * @module
 */

import * as net from "node:net";
import * as childProcess from "node:child_process";
import cluster from "node:cluster";
import type { Listener, ListenAddress, ListenOptions, Socket, SocketEvents } from "../src/socket.ts";
import type { ClusterTransport, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";

function ignoreError(): void {}

/** One `net.Socket` as a core {@linkcode Socket}. */
class NodeSocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  #socket: net.Socket;
  #events: SocketEvents | null = null;
  #closed = false;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? "";
    this.localPort = socket.localPort ?? 0;
    // Installed at once: an error before start() must not crash the process.
    socket.on("error", ignoreError);
    socket.once("close", () => {
      this.#closed = true;
      this.#events?.close();
    });
  }

  start(events: SocketEvents): void {
    if (this.#events !== null) throw new Error("Socket.start() called twice");
    this.#events = events;
    const socket = this.#socket;
    if (this.#closed) {
      // Closed between accept and start: still report it, once, asynchronously.
      process.nextTick(() => events.close());
      return;
    }
    socket.on("data", (bytes: Uint8Array) => events.data(bytes));
    socket.on("drain", () => events.drain());
    socket.on("end", () => events.end());
  }

  write(bytes: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return false;
    return socket.write(bytes);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    const socket = this.#socket;
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  }

  destroy(): void {
    // An abort, not a goodbye: reset (RST) rather than leave unsent bytes
    // queued in the kernel for a peer that is not reading (FIN-WAIT-1).
    const s = this.#socket as net.Socket & { resetAndDestroy?: () => void };
    if (typeof s.resetAndDestroy === "function" && !s.destroyed) s.resetAndDestroy();
    else s.destroy();
  }
}

/** A listening `net.Server` as a core {@linkcode Listener}. */
class NodeListener implements Listener {
  readonly address: ListenAddress;
  #server: net.Server;

  constructor(server: net.Server, address: ListenAddress) {
    this.#server = server;
    this.address = address;
  }

  close(): void {
    // Stops accepting; sockets already accepted live on.
    if (this.#server.listening) this.#server.close();
  }
}

/**
 * The `node:net` transport. `reusePort` needs Node ≥ 22.12 (or ≥ 23.1) and an
 * OS with SO_REUSEPORT (Linux, FreeBSD); elsewhere Node rejects the listen.
 */
export const nodeTransport: ClusterTransport = {
  runtime: "node",
  onSignals(signals, handler) {
    for (const s of signals) process.on(s, handler);
    return () => {
      for (const s of signals) process.off(s, handler);
    };
  },
  processes: nodeProcesses(),
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    return new Promise<Listener>((resolve, reject) => {
      const keepAliveMs = options.tcpKeepAliveMs ?? 0;
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
        onSocket(new NodeSocket(socket));
      });
      const onError = (error: Error): void => {
        server.off("listening", onListening);
        reject(error);
      };
      const onListening = (): void => {
        server.off("error", onError);
        // Accept errors after listening (EMFILE, ...) must not crash the process.
        server.on("error", ignoreError);
        const bound = server.address();
        const address: ListenAddress =
          bound !== null && typeof bound === "object"
            ? { hostname: bound.address, port: bound.port }
            : { hostname: options.hostname, port: options.port };
        resolve(new NodeListener(server, address));
      };
      server.once("error", onError);
      server.once("listening", onListening);
      const listenOptions: net.ListenOptions & { reusePort?: boolean } = {
        host: options.hostname,
        port: options.port,
      };
      // A node:cluster worker (the fallback where reusePort is missing) shares
      // the primary's listening socket instead.
      if (options.reusePort === true && !cluster.isWorker) listenOptions.reusePort = true;
      server.listen(listenOptions);
    });
  },
};

/**
 * SO_REUSEPORT through `server.listen({ reusePort })`: Node ≥ 22.12 / ≥ 23.1,
 * on Linux and FreeBSD. Elsewhere workers fall back to `node:cluster`, whose
 * primary owns the listening socket and hands connections out.
 */
function hasReusePort(): boolean {
  const [major, minor] = process.versions.node.split(".").map(Number);
  const recent = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return recent && (process.platform === "linux" || process.platform === "freebsd");
}

/**
 * Node's {@linkcode ProcessControl}: workers are `child_process.spawn` of
 * the same `node` binary with the same `execArgv`, script and arguments, and
 * an IPC channel (JSON serialization) for the message lines; the primary's
 * death closes the channel, which the worker sees as `disconnect`.
 */
function nodeProcesses(): ProcessControl {
  return {
    env: (name) => process.env[name],
    assertCanSpawn() {
      if (process.argv[1] === undefined) throw new Error("Cannot run workers: no entry script to re-run (node -e / REPL)");
    },
    spawnWorker(env: Record<string, string>, events: WorkerEvents): WorkerHandle {
      let child: childProcess.ChildProcess;
      if (hasReusePort()) {
        child = childProcess.spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
          env: { ...process.env, ...env },
          stdio: ["inherit", "inherit", "inherit", "ipc"],
          serialization: "json",
        });
      } else {
        cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2), execArgv: process.execArgv });
        child = cluster.fork(env).process;
      }
      let exited = false;
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (exited) return;
        exited = true;
        events.exit(code, signal);
      };
      child.on("message", (m: unknown) => {
        if (typeof m === "string") events.message(m);
      });
      child.on("exit", onExit);
      child.on("error", () => onExit(null, null)); // spawn failed
      return {
        pid: child.pid ?? 0,
        send(line) {
          if (child.connected) child.send(line, () => {});
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
