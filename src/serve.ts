/**
 * `serveWith(transport, options)`: the one entry every adapter's `serve()`
 * calls. A single-process server (`src/server.ts`), or with `workers` the
 * supervisor or a worker's server (`src/cluster.ts`). It sits apart from
 * both so that neither imports the other.
 *
 * @module
 */

import type { Transport } from "./socket.ts";
import type { ServeOptions } from "./options.ts";
import { createServer, type Server } from "./server.ts";
import { serveWorkers } from "./cluster.ts";
import { withHealth } from "./health.ts";
import { installLightweightGlobals, withLightweightGlobals } from "./fetch/light.ts";

/**
 * Starts a server on `transport`. Adapters wrap this as `serve(options)`.
 * @param transport the runtime binding
 * @param options the handler, address and limits
 * @returns the running server
 * @throws {TypeError} when `options.fetch` is not a function
 * @throws {RangeError} when a numeric option is out of range
 */
export function serveWith(transport: Transport, options: ServeOptions): Server {
  if (options?.lightweightGlobals === true) {
    // Opt-in (src/fetch/light.ts): the process's globals while this server
    // runs (counted: the last server with it to finish puts the runtime's back).
    const release = installLightweightGlobals();
    let server: Server;
    try {
      server = serveWith(withLightweightGlobals(transport), { ...options, lightweightGlobals: false });
    } catch (e) {
      release();
      throw e;
    }
    // Taken back once it has finished, or at once when it could not listen.
    server.finished.then(release, release);
    server.ready.catch(release);
    return server;
  }
  if (options?.health !== undefined && options.health !== false) {
    // The probes read the server that answers them (a worker's own, under a supervisor).
    let server: Server | undefined;
    const wrapped = { ...options, fetch: withHealth(options.fetch, options.health, () => server), health: undefined };
    server = serveWith(transport, wrapped);
    return server;
  }
  // Multi-process: a supervisor here, or a reusePort listener in a worker (src/cluster.ts).
  if (options?.workers !== undefined) return serveWorkers(transport, options, (o) => createServer(transport, o));
  return createServer(transport, options);
}
