// anyserve serving the shared Hono app (HTTPS with TLS_CERT / TLS_KEY). Runs on Node 24, Deno and Bun.
import { serve } from "../../mod.ts";
import { app } from "./app.ts";
import { hostname, port, tls } from "./env.ts";

serve({ fetch: app.fetch, port, hostname, ...(tls !== undefined ? { tls } : {}) });
