/**
 * Deno's worker processes: spawning them, and a worker's link back, for the
 * supervisor (`src/cluster.ts`) through {@linkcode ProcessControl}.
 *
 * @module
 */

import { MESSAGE_PREFIX, type ProcessControl, WORKER_ID_ENV, WORKER_PORT_ENV, type WorkerEvents, type WorkerHandle } from "../../src/process.ts";
import { deno } from "./types.ts";

/** The process parts of the `Deno` namespace, typed structurally (shapes of Deno 2). */
export interface DenoProcessApi {
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

export function denoProc(): DenoProcessApi {
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
export function denoProcesses(): ProcessControl {
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
