/**
 * anyserve on Node (24 and later): the core bound to `node:net`.
 *
 * @example
 * ```ts
 * import { serve } from "anyserve/node";
 * serve({ fetch: () => new Response("Hello"), port: 3000 });
 * ```
 *
 * @module
 */

import type { Server } from "../src/server.ts";
import { serveWith } from "../src/serve.ts";
import type { ServeOptions } from "../src/options.ts";
import type { ClusterTransport } from "../src/process.ts";
import { nodeDeflate } from "./_node_api/ws_deflate.ts";
import { onProcessSignals, writeStdout } from "./_node_api/process_ipc.ts";
import { listenNode } from "./node/listener.ts";
import { nodeProcesses } from "./node/process.ts";
export type { ClusterServer, WorkerInfo } from "../src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";
export { ServerWebSocket, upgradeWebSocket } from "../src/ws/web.ts";
export type { UpgradeWebSocketOptions } from "../src/ws/web.ts";
export type { UpgradeOptions, WebSocketConfig, WebSocketStats } from "../src/ws/hub.ts";
export type { WebSocketSession } from "../src/ws/session.ts";

/**
 * The `node:net` transport: connections from `./node/listener.ts` as the
 * sockets of `./_node_api/node_socket.ts` (shared with Bun), workers from `./node/process.ts`.
 * `reusePort` needs Node ≥ 22.12 (or ≥ 23.1) and an OS with SO_REUSEPORT
 * (Linux, FreeBSD); elsewhere Node rejects the listen.
 */
export const nodeTransport: ClusterTransport = {
  runtime: "node",
  // permessage-deflate through node:zlib.
  webSocketDeflate: nodeDeflate(),
  onSignals: onProcessSignals,
  writeOut: writeStdout,
  processes: nodeProcesses(),
  listen: listenNode,
};

/**
 * Serves `options.fetch` over HTTP/1.1 with Node's `net` module.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(nodeTransport, options);
}
