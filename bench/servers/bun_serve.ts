// Bun.serve serving the shared Hono app. Baseline for Bun.
import { app } from "./app.ts";
import { hostname, port } from "./env.ts";

declare const Bun: { serve(opts: { fetch: (req: Request) => Response | Promise<Response>; port: number; hostname: string }): unknown };

Bun.serve({ fetch: app.fetch, port, hostname });
