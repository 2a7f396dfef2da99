/**
 * The `anyserve` command, runtime-free: parse, import the entry, serve,
 * and turn every failure into one line on stderr and a non-zero exit.
 * `cli.ts` (beside `mod.ts`) supplies the runtime through {@linkcode CliHost}.
 *
 * @module
 */

import type { Server } from "../server.ts";
import type { ServeOptions } from "../options.ts";
import { WORKER_ID_ENV } from "../process.ts";
import { CLI_OPTIONS, flagOf, helpText, parseArgs, UsageError } from "./args.ts";
import { entryOptions } from "./entry.ts";
import { VERSION } from "./version.ts";

/** What the command needs from the runtime. */
export interface CliHost {
  /** The runtime's name, for the listening line. */
  readonly runtime: string;
  /** Arguments after the script. */
  readonly argv: readonly string[];
  env(name: string): string | undefined;
  /** True when `path` names an existing file. */
  isFile(path: string): boolean;
  /** Imports the module at `path` (relative to the working directory). */
  importEntry(path: string): Promise<Record<string, unknown>>;
  /** `serve()` for this runtime. */
  serve(options: ServeOptions): Server;
  /** Calls `changed` (debounced by the host) when a file under `path`'s directory changes; returns a stop function. */
  watch?(path: string, changed: () => void): () => void;
  /** Writes one line to stdout / stderr. */
  out(line: string): void;
  err(line: string): void;
  exit(code: number): void;
}

/** Exit status for a usage mistake (bad flag, bad entry). */
export const EXIT_USAGE = 2;

/** Turns an error thrown by serve()/listen into the one line to print. */
export function describeError(error: unknown, port: number | undefined): string {
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(error);
  if (e?.code === "EADDRINUSE" || e?.name === "AddrInUse" || /address already in use|EADDRINUSE|in use/i.test(message)) {
    return `port ${port ?? "?"} is in use: choose another with --port (or PORT)`;
  }
  if (e?.code === "EACCES" || e?.name === "PermissionDenied" || /EACCES|permission denied/i.test(message)) {
    return `cannot listen on port ${port ?? "?"}: permission denied (ports below 1024 need privileges; choose another with --port)`;
  }
  // serve()'s option checks say `Invalid maxHeaderBytes "1": ...`: name the flag too.
  const m = /^Invalid (\w+) /.exec(message);
  if (m !== null) {
    const flag = flagOf(m[1]);
    if (flag !== undefined) return `${flag}: ${message}`;
  }
  return message;
}

/**
 * Runs the command. Resolves with the server (when serving) so a caller
 * (tests) can close it; failures exit through `host.exit`.
 */
export async function runCli(host: CliHost): Promise<Server | undefined> {
  const fail = (line: string, code = 1): undefined => {
    host.err(`anyserve: ${line}`);
    host.exit(code);
    return undefined;
  };
  let args;
  try {
    args = parseArgs(host.argv, (name) => host.env(name));
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e), EXIT_USAGE);
  }
  if (args.mode === "help") {
    host.out(helpText(VERSION));
    return undefined;
  }
  if (args.mode === "version") {
    host.out(VERSION);
    return undefined;
  }
  if (!host.isFile(args.entry)) return fail(`entry ${args.entry} not found (give the path of a module, e.g. anyserve ./app.ts)`, EXIT_USAGE);
  let mod: Record<string, unknown>;
  try {
    mod = await host.importEntry(args.entry);
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return fail(`cannot load ${args.entry}: ${message}`);
  }
  let fromEntry;
  try {
    fromEntry = entryOptions(args.entry, mod);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e), EXIT_USAGE);
  }
  const inWorker = (host.env(WORKER_ID_ENV) ?? "") !== "";
  const options: ServeOptions = { ...fromEntry, ...args.options } as ServeOptions;
  if (args.watch && options.workers === undefined) options.workers = 1;
  const userListen = fromEntry.onListen;
  options.handleSignals = true;
  options.onListen = (address) => {
    host.err(`anyserve: listening on http://${address.hostname}:${address.port}/ (${host.runtime}${options.workers !== undefined ? `, ${describeWorkers(options.workers)}` : ""})`);
    userListen?.(address);
  };
  let server: Server;
  try {
    server = host.serve(options);
  } catch (e) {
    return fail(describeError(e, options.port), EXIT_USAGE);
  }
  try {
    await server.ready;
  } catch (e) {
    // A worker reports its own listen failure; the supervisor only that it gave up.
    return fail(describeError(e, options.port));
  }
  if (args.watch && !inWorker && host.watch !== undefined) {
    const reload = (server as Server & { reload?: () => Promise<unknown> }).reload;
    if (reload !== undefined) {
      let running: Promise<unknown> | null = null;
      let again = false;
      const run = () => {
        if (running !== null) {
          again = true;
          return;
        }
        host.err("anyserve: change seen, reloading");
        running = reload.call(server).catch((e: unknown) => host.err(`anyserve: reload failed: ${e instanceof Error ? e.message : String(e)}`)).finally(() => {
          running = null;
          if (again) {
            again = false;
            run();
          }
        });
      };
      const stop = host.watch(args.entry, run);
      server.finished.then(stop);
    }
  }
  return server;
}

function describeWorkers(n: number | "auto"): string {
  return n === "auto" ? "a worker per core" : `${n} worker${n === 1 ? "" : "s"}`;
}

export { CLI_OPTIONS, VERSION };
