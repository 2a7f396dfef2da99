/**
 * Node's worker processes: spawning them, and a worker's link back, for the
 * supervisor (`src/cluster.ts`) through {@linkcode ProcessControl}.
 *
 * @module
 */

import type * as childProcess from "node:child_process";
import { childProcess as nodeChildProcess, cluster as nodeCluster } from "../_node_api/builtins.ts";
import type { ProcessControl, WorkerEvents, WorkerHandle } from "../../src/process.ts";
import { connectPrimaryOverIpc, exitProcess, processEnv } from "../_node_api/process_ipc.ts";

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
export function nodeProcesses(): ProcessControl {
  return {
    env: processEnv,
    assertCanSpawn() {
      if (process.argv[1] === undefined) throw new Error("Cannot run workers: no entry script to re-run (node -e / REPL)");
    },
    spawnWorker(env: Record<string, string>, events: WorkerEvents): WorkerHandle {
      let child: childProcess.ChildProcess;
      if (hasReusePort()) {
        child = nodeChildProcess().spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
          env: { ...process.env, ...env },
          stdio: ["inherit", "inherit", "inherit", "ipc"],
          serialization: "json",
        });
      } else {
        nodeCluster().setupPrimary({ exec: process.argv[1], args: process.argv.slice(2), execArgv: process.execArgv });
        child = nodeCluster().fork(env).process;
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
    connectPrimary: connectPrimaryOverIpc,
    exit: exitProcess,
  };
}
