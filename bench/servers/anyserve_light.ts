// anyserve serving the shared Hono app with the `lightweightGlobals: true` opt-in (global Request,
// Response and fetch replaced while it runs; see src/fetch/light.ts). Runs on Node 24, Deno and Bun.
import { serve } from "../../mod.ts";
import { app } from "./app.ts";
import { hostname, port, tls } from "./env.ts";

serve({ fetch: app.fetch, port, hostname, lightweightGlobals: true, ...(tls !== undefined ? { tls } : {}) });
