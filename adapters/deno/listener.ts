/**
 * Listening with `Deno.listen`: an accept loop that hands each connection
 * to the core as a {@linkcode DenoSocket}.
 *
 * @module
 */

import type { Listener, ListenOptions, Socket } from "../../src/socket.ts";
import { DenoSocket } from "./socket.ts";
import { deno, type DenoConn, type DenoListener } from "./types.ts";

/**
 * The wait before accepting again while the process is out of descriptors:
 * short enough that service resumes soon after a connection closes, long
 * enough not to spin (the figure this adapter has always used; not tuned).
 */
const OUT_OF_DESCRIPTORS_RETRY_MS = 10;

/**
 * Whether an accept failed for want of descriptors or kernel memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM). Deno reports these as a plain `Error`
 * with the errno name in `code` (EMFILE: "Too many open files (os error
 * 24)", seen on Deno 2.9 under `ulimit -n`).
 */
function outOfDescriptors(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "EMFILE" || code === "ENFILE" || code === "ENOBUFS" || code === "ENOMEM") return true;
  return e instanceof Error && /too many open files|os error (23|24|105|12)\b/i.test(e.message);
}

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
        // A failed accept must not stop the server. Out of descriptors,
        // every retry fails until a connection closes: wait a little rather
        // than spin. Any other failure (NotConnected, ConnectionReset,
        // ConnectionAborted: a client that reset before we took its
        // connection) concerns that one connection, and the next is waiting:
        // take it at once, as libuv does for ECONNABORTED.
        if (outOfDescriptors(e)) await new Promise((r) => setTimeout(r, OUT_OF_DESCRIPTORS_RETRY_MS));
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
