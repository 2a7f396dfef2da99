// Server registry for the TypeScript bench tools (mem_idle.ts, slowloris.ts): same names as
// bench/run.sh. Spawns a server pinned to a CPU (taskset, when available) with a raised fd limit.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR: string = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT: string = dirname(BENCH_DIR);

export type Runtime = "node" | "bun" | "deno";
export interface ServerDef {
  name: string;
  runtime: Runtime;
  file: string;
  label: string;
}

export const SERVERS: ServerDef[] = [
  { name: "anyserve-node", runtime: "node", file: "anyserve.ts", label: "anyserve (Node)" },
  { name: "anyserve-node-light", runtime: "node", file: "anyserve_light.ts", label: "anyserve (Node, lightweightGlobals)" },
  { name: "node-server", runtime: "node", file: "node_server.ts", label: "@hono/node-server" },
  { name: "srvx", runtime: "node", file: "srvx.ts", label: "srvx (Node)" },
  { name: "node-http", runtime: "node", file: "node_http.ts", label: "bare node:http" },
  { name: "raw-node", runtime: "node", file: "raw_node.ts", label: "raw node:net" },
  { name: "anyserve-bun", runtime: "bun", file: "anyserve.ts", label: "anyserve (Bun)" },
  { name: "anyserve-bun-light", runtime: "bun", file: "anyserve_light.ts", label: "anyserve (Bun, lightweightGlobals)" },
  { name: "bun-serve", runtime: "bun", file: "bun_serve.ts", label: "Bun.serve" },
  { name: "raw-bun", runtime: "bun", file: "raw_bun.ts", label: "raw Bun.listen" },
  { name: "anyserve-deno", runtime: "deno", file: "anyserve.ts", label: "anyserve (Deno)" },
  { name: "anyserve-deno-light", runtime: "deno", file: "anyserve_light.ts", label: "anyserve (Deno, lightweightGlobals)" },
  { name: "deno-serve", runtime: "deno", file: "deno_serve.ts", label: "Deno.serve" },
  { name: "raw-deno", runtime: "deno", file: "raw_deno.ts", label: "raw Deno.listen" },
];

export function findServer(name: string): ServerDef | undefined {
  return SERVERS.find((s) => s.name === name);
}

/** Why this server cannot be started here, or undefined if it can. */
export function unavailable(def: ServerDef): string | undefined {
  if (def.file === "anyserve.ts" && !existsSync(join(ROOT, "mod.ts"))) return "mod.ts does not exist yet";
  const bin = join(ROOT, "node_modules", ".bin", def.runtime);
  if (!existsSync(bin)) return `runtime ${bin} not found`;
  return undefined;
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  port: number;
  log: () => string;
  stop: () => Promise<void>;
}

let distBuilt = false;
/**
 * Builds the npm package (dist/) once per process, for Node's anyserve servers, which load it
 * rather than the source (see `anyserveEntry` in ./env.ts; NODE_SOURCE=1 for the source).
 */
function buildDist(): void {
  if (distBuilt) return;
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsup"), [], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`the tsup build failed:\n${(r.stdout ?? "") + (r.stderr ?? "")}`.slice(-2000));
  distBuilt = true;
}

/** Start `def` on `port`, pinned to `cpu` (if taskset exists), and wait until it accepts connections. */
export async function startServer(def: ServerDef, port: number, cpu = "1", timeoutMs = 15000): Promise<Started> {
  const why = unavailable(def);
  if (why) throw new Error(`${def.name}: ${why}`);
  const bin = join(ROOT, "node_modules", ".bin", def.runtime);
  const file = join(BENCH_DIR, "servers", def.file);
  const argv = def.runtime === "deno" ? [bin, "run", "-A", file] : [bin, file];
  const pin = existsSync("/usr/bin/taskset") ? `taskset -c ${cpu} ` : "";
  // exec chain keeps the pid: sh -> taskset -> runtime
  const script = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${pin}${argv.map(shq).join(" ")}`;
  const dist = def.runtime === "node" && def.file.startsWith("anyserve") && process.env.NODE_SOURCE !== "1";
  if (dist) buildDist();
  const child = spawn("sh", ["-c", script], {
    env: { ...process.env, PORT: String(port), ANYSERVE_DIST: dist ? "1" : "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));
  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    const done = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 3000);
    await done;
    clearTimeout(t);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${def.name} exited (${exited}) before listening:\n${out.slice(-2000)}`);
    if (await canConnect(port)) return { child, pid: child.pid!, port, log: () => out, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`${def.name} did not listen on :${port} within ${timeoutMs} ms:\n${out.slice(-2000)}`);
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or NaN. */
export async function procKiB(pid: number, field: string): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  try {
    const txt = await readFile(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(txt);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** --key value / --flag parsing, plus positional args. */
export function parseArgs(argv: string[]): { opts: Record<string, string>; rest: string[] } {
  const opts: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) opts[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) opts[a.slice(2)] = argv[++i];
      else opts[a.slice(2)] = "true";
    } else rest.push(a);
  }
  return { opts, rest };
}
