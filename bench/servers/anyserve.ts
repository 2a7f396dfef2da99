// anyserve serving the shared Hono app. Runs on Node 24, Deno and Bun.
import { serve } from "../../mod.ts";
import { app } from "./app.ts";
import { hostname, port } from "./env.ts";

serve({ fetch: app.fetch, port, hostname });
