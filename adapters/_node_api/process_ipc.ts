/**
 * Process plumbing shared by the runtimes that implement Node's `process`
 * API and its IPC channel (Node, Bun; Deno has no IPC): signals, the
 * environment, exiting, and a worker's channel to its primary. Adapter
 * private: only `adapters/node/` and `adapters/bun/` import it (the
 * architecture test says so).
 *
 * @module
 */

import type { PrimaryChannel, ProcessControl } from "../../src/process.ts";
import type { Transport } from "../../src/socket.ts";

/** `transport.onSignals` on `process`. */
export const onProcessSignals: NonNullable<Transport["onSignals"]> = (signals, handler) => {
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
};

/** `transport.writeOut` on `process.stdout` (the access log's batches). */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** `ProcessControl.env` on `process.env`. */
export function processEnv(name: string): string | undefined {
  return process.env[name];
}

/** `ProcessControl.exit` on `process.exit`. */
export function exitProcess(code: number): void {
  process.exit(code);
}

/**
 * `ProcessControl.connectPrimary` over the IPC channel the primary spawned
 * this worker with (JSON serialization, so a message line arrives as a
 * string): `process.on("message")` in, `process.send` out, and
 * `disconnect` when the primary dies.
 */
export const connectPrimaryOverIpc: ProcessControl["connectPrimary"] = (events): PrimaryChannel => {
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
};
