/**
 * anyserve on Bun: the core bound to `Bun.listen` socket handlers.
 *
 * @example
 * ```ts
 * import { serve } from "anyserve/bun";
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
import { listenBun } from "./bun/listener.ts";
import { impliedType } from "./bun/implied_type.ts";
import { peek } from "./bun/peek.ts";
import { bunProcesses } from "./bun/process.ts";
export type { ClusterServer, WorkerInfo } from "../src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";
export { ServerWebSocket, upgradeWebSocket } from "../src/ws/web.ts";
export type { UpgradeWebSocketOptions } from "../src/ws/web.ts";
export type { UpgradeOptions, WebSocketConfig, WebSocketStats } from "../src/ws/hub.ts";
export type { WebSocketSession } from "../src/ws/session.ts";

/**
 * The Bun transport: `Bun.listen` with half-open sockets, Nagle off
 * (`./bun/listener.ts`, sockets in `./bun/socket.ts`), `Bun.peek` for
 * settled promises (`./bun/peek.ts`), the type a string body implies
 * (`./bun/implied_type.ts`), and workers (`./bun/process.ts`).
 */
export const bunTransport: ClusterTransport = {
  runtime: "bun",
  // permessage-deflate through node:zlib.
  webSocketDeflate: nodeDeflate(),
  peek,
  impliedType,
  onSignals: onProcessSignals,
  writeOut: writeStdout,
  processes: bunProcesses(),
  listen: listenBun,
};

/**
 * Serves `options.fetch` over HTTP/1.1 with `Bun.listen`.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(bunTransport, options);
}
