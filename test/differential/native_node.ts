/**
 * The app on `@hono/node-server`, in a child process of the differential
 * suite on Node. Not in the suite's own process because `@hono/node-server`
 * replaces the global `Request` and `Response` with its own classes by
 * default (`overrideGlobalObjects`), and that is what makes rebuilt requests
 * work on it: run in one process, anyserve would be measured with the
 * node-server's globals, and with `overrideGlobalObjects: false` the
 * node-server is not the server its users run.
 *
 * Reads the origin URL from `ANYSERVE_DIFF_ORIGIN`, prints `{"port":N}` once
 * it listens, and exits when its stdin closes (so it dies with the suite).
 *
 * @module
 */

import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { makeApp } from "./app.ts";

const app = makeApp({ origin: process.env.ANYSERVE_DIFF_ORIGIN ?? "" });
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  process.stdout.write(JSON.stringify({ port: info.port }) + "\n");
});
process.stdin.resume();
process.stdin.on("end", () => {
  server.close();
  process.exit(0);
});
