/**
 * anyserve: one fast, strict HTTP/1.1 server core for Node, Deno and Bun.
 * Serves any `fetch(request) => Response` handler, Hono's `app.fetch` above
 * all, on raw sockets with pipelining, backpressure and graceful shutdown.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { serve } from "anyserve";
 *
 * const app = new Hono().get("/", (c) => c.text("Hello"));
 * const server = serve({ fetch: app.fetch, port: 3000 });
 * await server.ready;
 * ```
 *
 * @module
 */

import type { Transport } from "./src/socket.ts";
import { nodeTransport } from "./adapters/node.ts";
import { denoTransport } from "./adapters/deno.ts";
import { bunTransport } from "./adapters/bun.ts";
import type { Server } from "./src/server.ts";
import { serveWith } from "./src/serve.ts";
import type { ServeOptions } from "./src/options.ts";

export type { CloseOptions, CloseSummary, Server, ServerState, ServerStats } from "./src/server.ts";
export type { ExecutionContext, FetchHandler, HealthOptions, ServeOptions } from "./src/options.ts";
export type { AccessLogEntry, AccessLogOption } from "./src/access_log.ts";
export type { ConnInfo, NetAddr, SocketAddress } from "./src/fetch/conn_info.ts";
export type { ListenAddress, Listener, ListenOptions, Socket, SocketEvents, Transport } from "./src/socket.ts";
export { DEFAULTS } from "./src/options.ts";
export { serveWith } from "./src/serve.ts";
export type { ClusterServer, WorkerInfo } from "./src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "./src/process.ts";
export { statsResponse, toPrometheus } from "./src/stats.ts";
export type { OverloadStrategy } from "./src/backpressure.ts";
export { ServerWebSocket, upgradeWebSocket } from "./src/ws/web.ts";
export type { UpgradeWebSocketOptions } from "./src/ws/web.ts";
export type { UpgradeOptions, WebSocketConfig, WebSocketStats } from "./src/ws/hub.ts";
export type { WebSocketSession } from "./src/ws/session.ts";

/** Picks the adapter for the running runtime: the one place that detects it. */
function detect(): Transport {
  const g = globalThis as Record<string, unknown>;
  if ("Bun" in g) return bunTransport;
  if ("Deno" in g) return denoTransport;
  return nodeTransport;
}

/**
 * Serves `options.fetch` over HTTP/1.1 on the running runtime (Node, Deno or
 * Bun). Returns at once; `server.ready` resolves once it listens.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(detect(), options);
}
