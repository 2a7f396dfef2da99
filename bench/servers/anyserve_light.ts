// anyserve serving the shared Hono app with the `lightweightGlobals: true` opt-in (global Request,
// Response and fetch replaced while it runs; see src/fetch/light.ts). Runs on Node 24, Deno and Bun.
import { app } from "./app.ts";
import { anyserveEntry, hostname, port, tls } from "./env.ts";

const { serve }: typeof import("../../mod.ts") = await import(anyserveEntry);

serve({ fetch: app.fetch, port, hostname, lightweightGlobals: true, ...(tls !== undefined ? { tls } : {}) });
