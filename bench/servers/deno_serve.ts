// Deno.serve serving the shared Hono app. Baseline for Deno.
import { app } from "./app.ts";
import { hostname, port } from "./env.ts";

declare const Deno: {
  serve(opts: { port: number; hostname: string; onListen?: () => void }, handler: (req: Request) => Response | Promise<Response>): unknown;
};

Deno.serve({ port, hostname, onListen: () => {} }, app.fetch);
