// Bun.serve serving the shared Hono app (Bun.serve({ tls }) with TLS_CERT / TLS_KEY). Baseline for Bun.
import { app } from "./app.ts";
import { hostname, port, tls } from "./env.ts";

declare const Bun: {
  serve(opts: { fetch: (req: Request) => Response | Promise<Response>; port: number; hostname: string; tls?: { cert: string; key: string } }): unknown;
};

Bun.serve({ fetch: app.fetch, port, hostname, ...(tls !== undefined ? { tls } : {}) });
