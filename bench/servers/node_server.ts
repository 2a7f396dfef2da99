// @hono/node-server (Node 24) serving the shared Hono app. Baseline for Node.
import { serve } from "@hono/node-server";
import { app } from "./app.ts";
import { hostname, port } from "./env.ts";

serve({ fetch: app.fetch, port, hostname });
