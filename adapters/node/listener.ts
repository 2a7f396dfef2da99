/**
 * Listening with `node:net` (or `node:tls` for HTTPS): a server per listen,
 * on a TCP port, a Unix socket or an inherited descriptor, each accepted
 * connection handed to the core as a {@linkcode NodeSocket} (TLS ones once
 * their handshake is done).
 *
 * @module
 */

import type * as net from "node:net";
import { cluster, net as nodeNet } from "../_node_api/builtins.ts";
import type { Listener, ListenOptions, Socket } from "../../src/socket.ts";
import type { TlsSettings } from "../../src/tls.ts";
import { listenNetServer } from "../_node_api/net_listen.ts";
import { NodeSocket } from "../_node_api/node_socket.ts";
import { createTlsServer } from "../_node_api/tls_server.ts";
import { prepareUnixPath } from "../_node_api/unix_socket.ts";

/**
 * `transport.listen` on `node:net` / `node:tls`. `reusePort` needs Node ≥
 * 22.12 (or ≥ 23.1) and an OS with SO_REUSEPORT (Linux, FreeBSD); elsewhere
 * Node rejects the listen.
 */
export async function listenNode(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  const unix = options.unix;
  if (unix !== undefined) await prepareUnixPath(unix);
  const keepAliveMs = options.tcpKeepAliveMs ?? 0;
  const local = unix !== undefined || options.fd !== undefined;
  const keepAlive = keepAliveMs > 0 && !local;
  const accept = (socket: net.Socket, encrypted: boolean) => {
    if (keepAlive && !encrypted) socket.setKeepAlive(true, keepAliveMs);
    onSocket(new NodeSocket(socket, encrypted, unix !== undefined));
  };
  let server: net.Server;
  let setTls: ((t: TlsSettings) => Promise<void>) | undefined;
  if (options.tls !== undefined) {
    ({ server, setTls } = createTlsServer(options, keepAlive ? keepAliveMs : 0, (socket) => accept(socket, true)));
  } else {
    server = nodeNet().createServer({ allowHalfOpen: true, noDelay: true }, (socket) => accept(socket, false));
  }
  // A node:cluster worker (the fallback where reusePort is missing) shares
  // the primary's listening socket instead.
  return listenNetServer(server, options, options.reusePort === true && !cluster().isWorker, setTls);
}
