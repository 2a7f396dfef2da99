// JS heap held per idle keep-alive connection, after a full GC: what bench/mem_idle.ts's RSS figure
// is made of, without the garbage and heap growth RSS also counts. The server runs in this process;
// a Node client (bench/probes/idle_client.mjs) opens N connections, one GET / each, and holds them.
// Run from the repository root:
//   node_modules/.bin/bun bench/probes/heap_idle.ts anyserve|light|bun-serve [N]
//   node_modules/.bin/deno run -A --v8-flags=--expose-gc bench/probes/heap_idle.ts anyserve|light|deno-serve [N]
// (Bun also prints the object types that grew, from `bun:jsc` heapStats().)
import { app } from "../servers/app.ts";

declare const Bun: { serve(o: unknown): unknown; gc(full: boolean): void; spawn(cmd: string[], o: unknown): any } | undefined;
declare const Deno: any;
const args: string[] = typeof Deno !== "undefined" ? Deno.args : (globalThis as any).process.argv.slice(2);
const mode = args[0] ?? "anyserve";
const N = Number(args[1] ?? 5000);
const PORT = 4791;
const ROOT = new URL("../..", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === "bun-serve") Bun!.serve({ port: PORT, hostname: "127.0.0.1", fetch: app.fetch });
else if (mode === "deno-serve") Deno.serve({ port: PORT, hostname: "127.0.0.1", onListen() {} }, app.fetch);
else {
  const { serve } = await import("../../mod.ts");
  serve({ fetch: app.fetch, port: PORT, hostname: "127.0.0.1", lightweightGlobals: mode === "light" });
}
await sleep(300);

/** Starts the client holding `n` connections; resolves once all got their answer. */
async function hold(n: number): Promise<() => Promise<void>> {
  const argv = [`${ROOT}node_modules/.bin/node`, `${ROOT}bench/probes/idle_client.mjs`, String(PORT), String(n)];
  if (typeof Bun !== "undefined") {
    const c = Bun.spawn(argv, { stdout: "pipe", stdin: "pipe" });
    await c.stdout.getReader().read();
    return async () => {
      c.stdin.write("x");
      c.stdin.flush();
      await c.exited;
    };
  }
  const c = new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stdin: "piped" }).spawn();
  await c.stdout.getReader().read();
  return async () => {
    await c.stdin.getWriter().write(new Uint8Array([1]));
    await c.status;
  };
}

async function measure(): Promise<{ heap: number; rss: number; types: Record<string, number> }> {
  await sleep(300);
  if (typeof Bun !== "undefined") {
    Bun.gc(true);
    await sleep(100);
    Bun.gc(true);
    const { heapStats } = await import("bun:jsc" as string);
    const s = heapStats();
    return { heap: s.heapSize, rss: (globalThis as any).process.memoryUsage().rss, types: s.objectTypeCounts };
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run Deno with --v8-flags=--expose-gc");
  gc();
  gc();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss, types: {} };
}

await (await hold(50))(); // warm-up: 50 connections, closed
const a = await measure();
const release = await hold(N);
const b = await measure();
console.log(`${mode}: ${((b.heap - a.heap) / N).toFixed(0)} bytes of JS heap (V8: used + external) per idle connection, RSS ${((b.rss - a.rss) / N / 1024).toFixed(2)} KiB (${N} connections)`);
for (const k of Object.keys(b.types)) {
  const d = (b.types[k] - (a.types[k] ?? 0)) / N;
  if (d >= 0.5) console.log(`  ${k}: ${d.toFixed(2)} per connection`);
}
await release();
if (typeof Deno !== "undefined") Deno.exit(0);
(globalThis as any).process.exit(0);
