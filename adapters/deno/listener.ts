/**
 * Listening with `Deno.listen`: an accept loop that hands each connection
 * to the core as a {@linkcode DenoSocket}.
 *
 * @module
 */

import type { Listener, ListenOptions, Socket } from "../../src/socket.ts";
import { DenoSocket } from "./socket.ts";
import { deno, type DenoConn, type DenoListener } from "./types.ts";

/** `transport.listen` on `Deno.listen`. */
export function listenDeno(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  let listener: DenoListener;
  try {
    const d = deno();
    if (options.reusePort === true && !("listenDatagram" in d)) {
      // Deno.listen({ reusePort: true }) without --unstable-net does not
      // throw: Deno prints an error and exits the process (code 70). The
      // unstable-net APIs (listenDatagram) are only present under the flag.
      throw new Error("reusePort on Deno needs the --unstable-net flag (Deno.listen({ reusePort: true }) is unstable): run deno with --unstable-net");
    }
    listener = d.listen({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
      ...(options.reusePort === true ? { reusePort: true } : {}),
    });
  } catch (e) {
    return Promise.reject(e);
  }
  let open = true;
  const keepAlive = (options.tcpKeepAliveMs ?? 0) > 0;
  (async () => {
    while (open) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (!open || (e instanceof Error && e.name === "BadResource")) return;
        // A failed accept (EMFILE, a reset before accept) must not stop the
        // server, nor spin: try again shortly.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (!open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
        return;
      }
      const socket = new DenoSocket(conn);
      socket.keepAlive = keepAlive;
      onSocket(socket);
    }
  })();
  return Promise.resolve({
    address: { hostname: listener.addr.hostname, port: listener.addr.port },
    close: () => {
      open = false;
      try {
        listener.close();
      } catch {
        // already closed
      }
    },
  });
}
