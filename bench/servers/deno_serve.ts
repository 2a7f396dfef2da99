// Deno.serve serving the shared Hono app (Deno.serve({ cert, key }) with TLS_CERT / TLS_KEY). Baseline for Deno.
import { app } from "./app.ts";
import { hostname, port, tls } from "./env.ts";

declare const Deno: {
  serve(
    opts: { port: number; hostname: string; onListen?: () => void; cert?: string; key?: string },
    handler: (req: Request) => Response | Promise<Response>,
  ): unknown;
};

Deno.serve({ port, hostname, onListen: () => {}, ...(tls ?? {}) }, app.fetch);
