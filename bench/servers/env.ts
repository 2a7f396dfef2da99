// Shared helpers for the bench servers: port from env PORT (default 3000), and with TLS_CERT / TLS_KEY
// (bench/run.sh TLS=1) the PEM files to serve HTTPS with, across runtimes.
import { readFileSync } from "node:fs";

declare const Deno: { env: { get(k: string): string | undefined } } | undefined;

export function readEnv(name: string): string | undefined {
  if (typeof Deno !== "undefined") return Deno.env.get(name);
  // Node and Bun
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
}

export const port: number = Number(readEnv("PORT") ?? 3000);
export const hostname = "127.0.0.1";

const certFile = readEnv("TLS_CERT");
const keyFile = readEnv("TLS_KEY");
/** The certificate and key to serve HTTPS with, when bench/run.sh runs with TLS=1. */
export const tls: { cert: string; key: string } | undefined = certFile && keyFile
  ? { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") }
  : undefined;

/**
 * Where the anyserve servers load anyserve from. Node runs `.ts` files through its type stripping
 * (amaro, a WebAssembly build of swc), whose heap grows with the source it strips and stays: loading
 * anyserve's source that way costs Node about 40 MiB of RSS that the npm package (`dist/`, plain JS)
 * does not, and that no user pays (npm users get `dist/`; Deno and Bun run the TypeScript natively).
 * So bench/run.sh builds `dist/` and sets ANYSERVE_DIST=1 for the Node servers; unset, the source.
 */
export const anyserveEntry: string = readEnv("ANYSERVE_DIST") === "1" ? "../../dist/mod.js" : "../../mod.ts";
