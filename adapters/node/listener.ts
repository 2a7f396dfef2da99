/**
 * Listening with `node:net`: a `net.Server` per listen, each accepted
 * connection handed to the core as a {@linkcode NodeSocket}.
 *
 * @module
 */

import * as net from "node:net";
import cluster from "node:cluster";
import type { Listener, ListenAddress, ListenOptions, Socket } from "../../src/socket.ts";
import { ignoreError, NodeSocket } from "./socket.ts";

/** A listening `net.Server` as a core {@linkcode Listener}. */
class NodeListener implements Listener {
  readonly address: ListenAddress;
  #server: net.Server;

  constructor(server: net.Server, address: ListenAddress) {
    this.#server = server;
    this.address = address;
  }

  close(): void {
    // Stops accepting; sockets already accepted live on.
    if (this.#server.listening) this.#server.close();
  }
}

/**
 * `transport.listen` on `node:net`. `reusePort` needs Node ≥ 22.12 (or
 * ≥ 23.1) and an OS with SO_REUSEPORT (Linux, FreeBSD); elsewhere Node
 * rejects the listen.
 */
export function listenNode(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  return new Promise<Listener>((resolve, reject) => {
    const keepAliveMs = options.tcpKeepAliveMs ?? 0;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
      onSocket(new NodeSocket(socket));
    });
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      // Accept errors after listening (EMFILE, ...) must not crash the process.
      server.on("error", ignoreError);
      const bound = server.address();
      const address: ListenAddress =
        bound !== null && typeof bound === "object"
          ? { hostname: bound.address, port: bound.port }
          : { hostname: options.hostname, port: options.port };
      resolve(new NodeListener(server, address));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    const listenOptions: net.ListenOptions & { reusePort?: boolean } = {
      host: options.hostname,
      port: options.port,
    };
    // A node:cluster worker (the fallback where reusePort is missing) shares
    // the primary's listening socket instead.
    if (options.reusePort === true && !cluster.isWorker) listenOptions.reusePort = true;
    server.listen(listenOptions);
  });
}
