/**
 * The `anyserve` command's arguments: flags generated from the options
 * table ({@linkcode DEFAULTS}), each also read from an environment variable,
 * and the help text. Runtime-free: the caller (`cli.ts`) passes argv and a
 * way to read the environment.
 *
 * Precedence, highest first: the flag, its environment variable, the
 * entry's own field (`export default { port, fetch }`), the default.
 *
 * @module
 */

import { DEFAULTS } from "../options.ts";

/** A command-line mistake: printed as one line, exit status 2. */
export class UsageError extends Error {}

/** What the command was asked to do. */
export interface CliArgs {
  /** `--help`, `--version`, or serve. */
  mode: "help" | "version" | "serve";
  /** The entry module path as given. */
  entry: string;
  /** Restart on file change. */
  watch: boolean;
  /** Options from flags and the environment (only those given). */
  options: Record<string, number | string | boolean>;
}

/** One option the command can set. */
export interface CliOption {
  /** The ServeOptions field. */
  name: string;
  /** `--kebab-case`. */
  flag: string;
  /** The environment variable. */
  env: string;
  /** How the value is read. */
  kind: "int" | "ratio" | "string" | "workers" | "switch";
  /** The default, for the help text. */
  fallback: string;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();

/** Every option the command takes, `--port` and `--hostname` first. */
export const CLI_OPTIONS: readonly CliOption[] = (() => {
  const list: CliOption[] = [
    { name: "port", flag: "--port", env: "PORT", kind: "int", fallback: String(DEFAULTS.port) },
    // Not HOSTNAME: shells set that to the machine's name.
    { name: "hostname", flag: "--hostname", env: "ANYSERVE_HOSTNAME", kind: "string", fallback: DEFAULTS.hostname },
    { name: "workers", flag: "--workers", env: "ANYSERVE_WORKERS", kind: "workers", fallback: "(one process)" },
    { name: "health", flag: "--health", env: "ANYSERVE_HEALTH", kind: "switch", fallback: "off (/healthz, /readyz)" },
    { name: "accessLog", flag: "--access-log", env: "ANYSERVE_ACCESS_LOG", kind: "string", fallback: "off (json|common)" },
    {
      name: "lightweightGlobals",
      flag: "--lightweight-globals",
      env: "ANYSERVE_LIGHTWEIGHT_GLOBALS",
      kind: "switch",
      fallback: "off (opt-in: replaces global Request/Response/fetch)",
    },
  ];
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (name === "port" || name === "hostname") continue;
    const kind = typeof value === "string" ? "string" : Number.isInteger(value) ? "int" : "ratio";
    list.push({ name, flag: "--" + kebab(name), env: "ANYSERVE_" + snake(name), kind, fallback: String(value) });
  }
  return list;
})();

const BY_FLAG = new Map(CLI_OPTIONS.map((o) => [o.flag, o]));

function parseValue(option: CliOption, raw: string, from: string): number | string | boolean {
  switch (option.kind) {
    case "switch":
      if (raw === "1" || raw === "true") return true;
      if (raw === "0" || raw === "false") return false;
      throw new UsageError(`${from} must be 1 or 0, got "${raw}"`);
    case "string":
      if (raw === "") throw new UsageError(`${from} needs a value`);
      return raw;
    case "workers":
      if (raw === "auto") return raw;
    // falls through
    case "int": {
      if (!/^\d+$/.test(raw)) {
        const extra = option.kind === "workers" ? ' or "auto"' : "";
        throw new UsageError(`${from} must be a whole number${extra}, got "${raw}"`);
      }
      return Number(raw);
    }
    case "ratio": {
      const n = Number(raw);
      if (raw === "" || !Number.isFinite(n)) throw new UsageError(`${from} must be a number, got "${raw}"`);
      return n;
    }
  }
}

/**
 * Reads argv (the arguments after the script) and the environment.
 * @throws {UsageError} on an unknown flag, a missing or bad value, or no entry
 */
export function parseArgs(argv: readonly string[], env: (name: string) => string | undefined): CliArgs {
  const options: Record<string, number | string | boolean> = {};
  let entry = "";
  let watch = false;
  for (const o of CLI_OPTIONS) {
    const raw = env(o.env);
    if (raw !== undefined && raw !== "") options[o.name] = parseValue(o, raw, `environment variable ${o.env}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return { mode: "help", entry, watch, options };
    if (arg === "-v" || arg === "--version") return { mode: "version", entry, watch, options };
    if (arg === "--watch") {
      watch = true;
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const eq = arg.indexOf("=");
      const flag = eq < 0 ? arg : arg.slice(0, eq);
      const option = BY_FLAG.get(flag);
      if (option === undefined) throw new UsageError(`unknown option ${flag}: see anyserve --help`);
      let raw: string;
      if (option.kind === "switch" && eq < 0) raw = "1";
      else if (eq >= 0) raw = arg.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
        raw = argv[++i];
      }
      options[option.name] = parseValue(option, raw, flag);
      continue;
    }
    if (entry !== "") throw new UsageError(`one entry only, got "${entry}" and "${arg}"`);
    entry = arg;
  }
  if (entry === "") throw new UsageError("no entry given: anyserve [options] <entry>, e.g. anyserve app.ts");
  return { mode: "serve", entry, watch, options };
}

/** The flag that sets a ServeOptions field, for error messages ("maxHeaderBytes" → "--max-header-bytes"). */
export function flagOf(name: string): string | undefined {
  return CLI_OPTIONS.find((o) => o.name === name)?.flag;
}

/** `anyserve --help`. */
export function helpText(version: string): string {
  const rows = CLI_OPTIONS.map((o) => {
    const value = o.kind === "switch" ? "" : o.name === "accessLog" ? " <format>" : o.kind === "string" ? " <text>" : o.kind === "workers" ? " <n|auto>" : " <n>";
    return [`  ${o.flag}${value}`, `${o.env}`, o.fallback];
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return [
    `anyserve ${version}: serve a fetch handler or Hono app over HTTP/1.1 on Node, Deno or Bun`,
    "",
    "Usage: anyserve [options] <entry>",
    "  node_modules/.bin/anyserve app.ts      (Node 24: TypeScript by type stripping)",
    "  bun node_modules/.bin/anyserve app.ts",
    "  deno run -A npm:anyserve app.ts",
    "",
    "The entry's default export: a Hono app, a { fetch } object (fields such as",
    "port and hostname are used too) or a fetch function.",
    "",
    "  --watch                     restart on file change (the entry's directory), draining like a reload",
    "  -h, --help                  this text",
    "  -v, --version               the version",
    "",
    `${"Option".padEnd(w0)}  ${"Environment".padEnd(w1)}  Default`,
    ...rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`),
    "",
    "A flag beats its environment variable, which beats the entry's own field.",
  ].join("\n");
}
