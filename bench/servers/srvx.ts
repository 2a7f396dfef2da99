// srvx (Node adapter, Node 24) serving the shared Hono app.
import { serve } from "srvx";
import { app } from "./app.ts";
import { hostname, port } from "./env.ts";

serve({ fetch: app.fetch, port, hostname, silent: true });
