#!/usr/bin/env node
/**
 * The `anyserve` command: `anyserve [options] <entry>` serves the entry's
 * default export on the runtime that runs this file (`node`, `bun`, or
 * `deno run -A`). The logic is `src/cli/main.ts`; this file only binds it
 * to the running runtime (arguments, environment, files, exit), through
 * the `node:` built-ins all three runtimes provide, and `Deno.args` on Deno.
 *
 * @module
 */

import { statSync, watch as fsWatch } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { serve } from "./mod.ts";
import { type CliHost, runCli } from "./src/cli/main.ts";

const g = globalThis as { Deno?: { args: string[] }; Bun?: unknown };
const runtime = g.Bun !== undefined ? "bun" : g.Deno !== undefined ? "deno" : "node";

/** How long file changes are gathered before one reload (editors write a file in several steps). */
const WATCH_DEBOUNCE_MS = 150;

const host: CliHost = {
  runtime,
  argv: g.Deno !== undefined ? g.Deno.args : process.argv.slice(2),
  env: (name) => process.env[name],
  isFile(path) {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  importEntry: (path) => import(pathToFileURL(resolve(path)).href),
  serve,
  watch(path, changed) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watcher = fsWatch(dirname(resolve(path)), { recursive: true }, (_event, name) => {
      if (typeof name === "string" && /(^|[\\/])(node_modules|\.git)([\\/]|$)/.test(name)) return;
      clearTimeout(timer);
      timer = setTimeout(changed, WATCH_DEBOUNCE_MS);
    });
    return () => {
      clearTimeout(timer);
      watcher.close();
    };
  },
  out: (line) => void process.stdout.write(line + "\n"),
  err: (line) => void process.stderr.write(line + "\n"),
  exit: (code) => process.exit(code),
};

// No top-level await: tsup also builds this file as CommonJS.
runCli(host).catch((e: unknown) => {
  host.err(`anyserve: ${e instanceof Error ? e.message : String(e)}`);
  host.exit(1);
});
