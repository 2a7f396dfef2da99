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

import { nodeTransport } from "./node_transport.ts";
import type { Server } from "../src/server.ts";
import { serveWith } from "../src/serve.ts";
import type { ServeOptions } from "../src/options.ts";
export type { ClusterServer, WorkerInfo } from "../src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";

export { nodeTransport };

/**
 * Serves `options.fetch` over HTTP/1.1 with Node's `net` module.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(nodeTransport, options);
}
