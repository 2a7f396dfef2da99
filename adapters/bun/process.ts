/**
 * Bun's worker processes: spawning them, and a worker's link back, for the
 * supervisor (`src/cluster.ts`) through {@linkcode ProcessControl}.
 *
 * @module
 */

import type { ProcessControl, WorkerEvents, WorkerHandle } from "../../src/process.ts";
import { connectPrimaryOverIpc, exitProcess, processEnv } from "../_node_api/process_ipc.ts";
import { bun } from "./types.ts";

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
export function bunProcesses(): ProcessControl {
  return {
    env: processEnv,
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
    connectPrimary: connectPrimaryOverIpc,
    exit: exitProcess,
  };
}
