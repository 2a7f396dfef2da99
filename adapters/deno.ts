/**
 * anyserve on Deno: the core bound to `Deno.listen` / `Deno.Conn`.
 *
 * @example
 * ```ts
 * import { serve } from "anyserve/deno";
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
import { listenDeno } from "./deno/listener.ts";
import { denoProc, denoProcesses } from "./deno/process.ts";
import { responseFields, staticBody } from "./deno/static_body.ts";
import { denoMakeRequest } from "./deno/request.ts";
export type { ClusterServer, WorkerInfo } from "../src/cluster.ts";
export type { ClusterTransport, PrimaryChannel, ProcessControl, WorkerEvents, WorkerHandle } from "../src/process.ts";
export { ServerWebSocket, upgradeWebSocket } from "../src/ws/web.ts";
export type { UpgradeWebSocketOptions } from "../src/ws/web.ts";
export type { UpgradeOptions, WebSocketConfig, WebSocketStats } from "../src/ws/hub.ts";
export type { WebSocketSession } from "../src/ws/session.ts";

/**
 * The Deno transport: `Deno.listen` plus an accept loop (`./deno/listener.ts`)
 * handing out the sockets of `./deno/socket.ts`, the fixed-body fast path
 * (`./deno/static_body.ts`), the handler's Request made as `Deno.serve`
 * makes its own (`./deno/request.ts`), and workers (`./deno/process.ts`).
 */
export const denoTransport: ClusterTransport = {
  runtime: "deno",
  // permessage-deflate through node:zlib (Deno implements it, sync flush included).
  webSocketDeflate: nodeDeflate(),
  staticBody,
  ...(responseFields === undefined ? {} : { responseFields }),
  ...(denoMakeRequest === undefined ? {} : { makeRequest: denoMakeRequest }),
  onSignals(signals, handler) {
    const d = denoProc();
    for (const s of signals) d.addSignalListener(s, handler);
    return () => {
      for (const s of signals) d.removeSignalListener(s, handler);
    };
  },
  processes: denoProcesses(),
  listen: listenDeno,
  writeOut(text) {
    // writeSync: in a worker stdout is also the message pipe, and a batch must not interleave with a message line.
    const bytes = new TextEncoder().encode(text);
    const out = denoProc().stdout;
    let off = 0;
    while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
  },
};

/**
 * Serves `options.fetch` over HTTP/1.1 with `Deno.listen`.
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 */
export function serve(options: ServeOptions): Server {
  return serveWith(denoTransport, options);
}
