/**
 * Listening with `Bun.listen`: half-open sockets, Nagle off, each handed to
 * the core as a {@linkcode BunSocket}.
 *
 * @module
 */

import type { Listener, ListenOptions, Socket } from "../../src/socket.ts";
import { BunSocket } from "./socket.ts";
import { bun } from "./types.ts";

/** `transport.listen` on `Bun.listen`. */
export function listenBun(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  const keepAliveMs = options.tcpKeepAliveMs ?? 0;
  try {
    const listener = bun().listen<BunSocket>({
      hostname: options.hostname,
      port: options.port,
      ...(options.reusePort === true ? { reusePort: true } : {}),
      allowHalfOpen: true,
      socket: {
        open(s) {
          s.setNoDelay(true);
          if (keepAliveMs > 0) (s as { setKeepAlive?: (on: boolean, ms: number) => boolean }).setKeepAlive?.(true, keepAliveMs);
          const socket = new BunSocket(s);
          s.data = socket;
          onSocket(socket);
        },
        data: (s, d) => s.data.onData(d),
        drain: (s) => s.data.onDrain(),
        end: (s) => s.data.onEnd(),
        close: (s) => s.data?.onClose(),
        error: (s) => s.data?.onError(),
      },
    });
    return Promise.resolve({
      address: { hostname: listener.hostname, port: listener.port },
      close: () => listener.stop(false),
    });
  } catch (e) {
    return Promise.reject(e);
  }
}
