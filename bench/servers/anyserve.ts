// anyserve serving the shared Hono app (HTTPS with TLS_CERT / TLS_KEY). Runs on Node 24, Deno and Bun.
import { app } from "./app.ts";
import { anyserveEntry, hostname, port, tls } from "./env.ts";

const { serve }: typeof import("../../mod.ts") = await import(anyserveEntry);

serve({ fetch: app.fetch, port, hostname, ...(tls !== undefined ? { tls } : {}) });
