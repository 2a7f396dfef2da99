// @hono/node-server (Node 24) serving the shared Hono app (over node:https with TLS_CERT / TLS_KEY). Baseline for Node.
import { createServer } from "node:https";
import { serve } from "@hono/node-server";
import { app } from "./app.ts";
import { hostname, port, tls } from "./env.ts";

if (tls !== undefined) serve({ fetch: app.fetch, port, hostname, createServer, serverOptions: tls });
else serve({ fetch: app.fetch, port, hostname });
