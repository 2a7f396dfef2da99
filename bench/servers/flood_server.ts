// A server for bench/flood.ts: anyserve with a handler that takes 5 ms, small
// limits, and the overload strategy from STRATEGY. Prints its stats as JSON on SIGTERM.
import { serve } from "../../mod.ts";
import type { OverloadStrategy } from "../../mod.ts";
import { hostname, port } from "./env.ts";

const strategy = (process.env.STRATEGY ?? "slow_down") as OverloadStrategy;
const server = serve({
  fetch: async (req) => {
    await new Promise((r) => setTimeout(r, 5));
    return new Response("ok " + new URL(req.url).pathname);
  },
  port,
  hostname,
  overloadStrategy: strategy,
  maxInFlightRequests: 64,
  maxQueuedRequests: 256,
  maxConnections: 512,
  priority: (req) => (req.headers.get("x-priority") === "high" ? 10 : 0),
});
process.on("SIGTERM", async () => {
  const stats = server.stats();
  await server.close({ deadlineMs: 2000 });
  console.log(JSON.stringify(stats));
  process.exit(0);
});
