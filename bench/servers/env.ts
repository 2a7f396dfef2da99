// Shared helpers for the bench servers: port from env PORT (default 3000), across runtimes.
declare const Deno: { env: { get(k: string): string | undefined } } | undefined;

function readEnv(name: string): string | undefined {
  if (typeof Deno !== "undefined") return Deno.env.get(name);
  // Node and Bun
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
}

export const port: number = Number(readEnv("PORT") ?? 3000);
export const hostname = "127.0.0.1";
