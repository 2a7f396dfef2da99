/**
 * Making a `net.Server` (or `tls.Server`) listen where the core asks: a
 * TCP port, a Unix socket (then its file mode) or an inherited descriptor;
 * the result as a core {@linkcode Listener}. Node's listener, and Bun's
 * `node:tls` path (SNI). Adapter private: only `adapters/node/` and
 * `adapters/bun/` import it.
 *
 * @module
 */

import type * as net from "node:net";
import type { Listener, ListenAddress, ListenOptions } from "../../src/socket.ts";
import type { TlsSettings } from "../../src/tls.ts";
import { ignoreError } from "./node_socket.ts";
import { applyUnixMode } from "./unix_socket.ts";

/** A listening `net.Server` / `tls.Server` as a core {@linkcode Listener}. */
class NetListener implements Listener {
  readonly address: ListenAddress;
  readonly setTls?: (t: TlsSettings) => Promise<void>;
  #server: net.Server;

  constructor(server: net.Server, address: ListenAddress, setTls?: (t: TlsSettings) => Promise<void>) {
    this.#server = server;
    this.address = address;
    if (setTls !== undefined) this.setTls = setTls;
  }

  close(): void {
    // Stops accepting; sockets already accepted live on.
    if (this.#server.listening) this.#server.close();
  }
}

/**
 * Listens `server` on `options.unix`, `options.fd`, or `options.hostname` /
 * `options.port` (with SO_REUSEPORT when `reusePort`); rejects when it cannot.
 */
export function listenNetServer(
  server: net.Server,
  options: ListenOptions,
  reusePort: boolean,
  setTls?: (t: TlsSettings) => Promise<void>,
): Promise<Listener> {
  const unix = options.unix;
  return new Promise<Listener>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      // Accept errors after listening (EMFILE, ...) must not crash the process.
      server.on("error", ignoreError);
      const bound = server.address();
      let address: ListenAddress;
      if (unix !== undefined) {
        try {
          applyUnixMode(unix);
        } catch (e) {
          server.close();
          reject(e);
          return;
        }
        address = { hostname: "localhost", port: 0, path: unix.path };
      } else if (bound !== null && typeof bound === "object") address = { hostname: bound.address, port: bound.port };
      else if (typeof bound === "string") address = { hostname: "localhost", port: 0, path: bound };
      else address = { hostname: options.hostname, port: options.port };
      resolve(new NetListener(server, address, setTls));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    if (unix !== undefined) server.listen({ path: unix.path });
    else if (options.fd !== undefined) server.listen({ fd: options.fd });
    else {
      const listenOptions: net.ListenOptions & { reusePort?: boolean } = { host: options.hostname, port: options.port };
      if (reusePort) listenOptions.reusePort = true;
      server.listen(listenOptions);
    }
  });
}
