/**
 * The process seam: what the multi-process supervisor (`src/cluster.ts`)
 * asks of a runtime, and the messages a worker and its primary exchange.
 * Adapters implement {@linkcode ProcessControl} against this file, not
 * against the supervisor.
 *
 * Messages are single-line JSON strings with a marker prefix, so they can
 * travel over an IPC channel (Node, Bun) or as lines on a pipe (Deno, which
 * has no IPC) mixed with the worker's own output.
 *
 * @module
 */

import type { Transport } from "./socket.ts";
import type { ServerStats } from "./stats.ts";
import type { TlsSettings } from "./tls.ts";

/** Environment variable that marks a worker process; its value is the worker id (1..N). */
export const WORKER_ID_ENV = "ANYSERVE_WORKER_ID";
/** Environment variable with the port a worker must listen on. */
export const WORKER_PORT_ENV = "ANYSERVE_WORKER_PORT";
/** Prefix of every protocol line, so a line protocol can share a pipe with the worker's output. */
export const MESSAGE_PREFIX = "\u001eanyserve:";

/** What a worker tells the primary. */
export type WorkerMessage =
  | { t: "listening"; hostname: string; port: number }
  | { t: "stats"; stats: ServerStats }
  | { t: "closing" }
  | { t: "closed"; finished: number; cut: number; webSockets?: { closed: number; cut: number } };

/** What the primary tells a worker. */
export type PrimaryMessage = { t: "close"; deadlineMs: number; lingerMs?: number } | { t: "tls"; tls: TlsSettings };

/** Encodes a message as one line (no newline). */
export function encodeMessage(message: WorkerMessage | PrimaryMessage): string {
  return MESSAGE_PREFIX + JSON.stringify(message);
}

/** Decodes a line from {@linkcode encodeMessage}; null for anything else (e.g. a log line). */
export function decodeMessage(line: string): WorkerMessage | PrimaryMessage | null {
  if (!line.startsWith(MESSAGE_PREFIX)) return null;
  try {
    const m = JSON.parse(line.slice(MESSAGE_PREFIX.length)) as { t?: unknown };
    return m !== null && typeof m === "object" && typeof m.t === "string" ? (m as WorkerMessage | PrimaryMessage) : null;
  } catch {
    return null;
  }
}

/** A spawned worker process, as the primary holds it. */
export interface WorkerHandle {
  /** OS process id. */
  readonly pid: number;
  /** Sends one encoded message line to the worker (best effort). */
  send(line: string): void;
  /** Sends a signal. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

/** What a spawned worker reports to the primary. */
export interface WorkerEvents {
  /** One encoded message line arrived. */
  message(line: string): void;
  /** The process exited (code null when killed by a signal). Called once. */
  exit(code: number | null, signal: string | null): void;
}

/** A worker's link to its primary. */
export interface PrimaryChannel {
  /** Sends one encoded message line; resolves once it is handed to the OS. */
  send(line: string): Promise<void>;
}

/**
 * The process side of a runtime, as a transport provides it: spawning
 * workers, the worker-to-primary channel, and exiting.
 */
export interface ProcessControl {
  /** Reads an environment variable; undefined when unset or not readable. */
  env(name: string): string | undefined;
  /**
   * Throws an Error saying why this process cannot spawn workers (e.g. a
   * missing runtime flag), before anything is spawned.
   */
  assertCanSpawn(): void;
  /**
   * Re-runs the entry script (same runtime, same flags, same arguments) with
   * `env` added to this process's environment.
   */
  spawnWorker(env: Record<string, string>, events: WorkerEvents): WorkerHandle;
  /**
   * In a worker: opens the channel to the primary. `message` gets lines the
   * primary sends; `disconnect` is called once if the primary goes away.
   */
  connectPrimary(events: { message(line: string): void; disconnect(): void }): PrimaryChannel;
  /** Ends this process. */
  exit(code: number): void;
}

/** A transport that can also run worker processes. */
export interface ClusterTransport extends Transport {
  /** Process spawning and messaging; absent where the runtime cannot. */
  readonly processes?: ProcessControl;
}
