/**
 * Runs `cli.ts` as a child process on the runtime running the test (Node,
 * Bun, or Deno with `run -A --unstable-net`), for the CLI, health and
 * reload tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(ROOT, "cli.ts");
export const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/** argv for running `script` on this runtime. */
export function runtimeArgs(script: string, args: string[]): [string, string[]] {
  const pre = runtime === "deno" ? ["run", "-A", "--unstable-net"] : [];
  return [process.execPath, [...pre, script, ...args]];
}

export interface CliRun {
  child: ChildProcess;
  /** Everything on stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the port once the listening line appears (rejects on exit first). */
  listening: Promise<number>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `anyserve ...args` (cwd: repo root). */
export function startCli(args: string[], env: Record<string, string> = {}): CliRun {
  const [cmd, argv] = runtimeArgs(CLI, args);
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onLine: (() => void) | undefined;
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    err += s;
    onLine?.();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const listening = new Promise<number>((resolve, reject) => {
    onLine = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)\//.exec(err);
      if (m !== null) resolve(Number(m[1]));
    };
    exited.then((e) => reject(new Error(`exited (${e.code ?? e.signal}) before listening: ${err}`)));
  });
  listening.catch(() => {});
  return { child, stdout: () => out, stderr: () => err, listening, exited };
}

/** Runs `anyserve ...args` to its end. */
export async function runCliToEnd(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000) {
  const run = startCli(args, env);
  const timer = setTimeout(() => run.child.kill("SIGKILL"), timeoutMs);
  const { code } = await run.exited;
  clearTimeout(timer);
  // let the pipes drain
  await new Promise((r) => setTimeout(r, 20));
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
