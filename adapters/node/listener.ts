/**
 * Listening with `node:net` (or `node:tls` for HTTPS): a server per listen,
 * on a TCP port, a Unix socket or an inherited descriptor, each accepted
 * connection handed to the core as a {@linkcode NodeSocket} (TLS ones once
 * their handshake is done).
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import cluster from "node:cluster";
import type { Listener, ListenAddress, ListenOptions, Socket } from "../../src/socket.ts";
import { certificateFor, type TlsCertificate, type TlsSettings } from "../../src/tls.ts";
import { applyUnixMode, prepareUnixPath } from "../_node_api/unix_socket.ts";
import { ignoreError, NodeSocket } from "./socket.ts";

/** `tls.createSecureContext` options for one certificate. */
function contextOptions(c: TlsCertificate, t: TlsSettings): tls.SecureContextOptions {
  return { cert: c.cert, key: c.key, passphrase: c.passphrase, ...(t.ca.length > 0 ? { ca: [...t.ca] } : {}) };
}

/** The secure contexts by SNI name (the default certificate's is the server's own). */
function sniContexts(t: TlsSettings): Map<TlsCertificate, tls.SecureContext> {
  const map = new Map<TlsCertificate, tls.SecureContext>();
  for (const c of t.certificates.slice(1)) map.set(c, tls.createSecureContext(contextOptions(c, t)));
  return map;
}

/** A listening `net.Server` / `tls.Server` as a core {@linkcode Listener}. */
class NodeListener implements Listener {
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
 * `transport.listen` on `node:net` / `node:tls`. `reusePort` needs Node ≥
 * 22.12 (or ≥ 23.1) and an OS with SO_REUSEPORT (Linux, FreeBSD); elsewhere
 * Node rejects the listen.
 */
export async function listenNode(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  const unix = options.unix;
  if (unix !== undefined) await prepareUnixPath(unix);
  const keepAliveMs = options.tcpKeepAliveMs ?? 0;
  const local = unix !== undefined || options.fd !== undefined;
  const accept = (socket: net.Socket, encrypted: boolean) => {
    if (keepAliveMs > 0 && !local) socket.setKeepAlive(true, keepAliveMs);
    onSocket(new NodeSocket(socket, encrypted, unix !== undefined));
  };
  let server: net.Server;
  let setTls: ((t: TlsSettings) => Promise<void>) | undefined;
  const t = options.tls;
  if (t !== undefined) {
    let settings = t;
    let contexts = sniContexts(t);
    const tlsServer = tls.createServer({
      ...contextOptions(t.certificates[0], t),
      allowHalfOpen: true,
      noDelay: true,
      ALPNProtocols: [...t.alpnProtocols],
      requestCert: t.requestCert,
      rejectUnauthorized: t.rejectUnauthorized,
      handshakeTimeout: options.tlsHandshakeTimeoutMs,
      SNICallback(servername, cb) {
        const c = certificateFor(settings, servername);
        cb(null, contexts.get(c)); // undefined: the default context
      },
    });
    tlsServer.on("secureConnection", (socket: tls.TLSSocket) => accept(socket, true));
    tlsServer.on("tlsClientError", (error: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      if (error.code === "ERR_TLS_HANDSHAKE_TIMEOUT") options.onTlsHandshakeTimeout?.();
      socket.destroy();
    });
    setTls = (next) => {
      // Build everything first: a bad key must leave the old certificates in place.
      const nextContexts = sniContexts(next);
      tlsServer.setSecureContext(contextOptions(next.certificates[0], next));
      settings = next;
      contexts = nextContexts;
      return Promise.resolve();
    };
    server = tlsServer;
  } else {
    server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => accept(socket, false));
  }
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
      resolve(new NodeListener(server, address, setTls));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    if (unix !== undefined) {
      server.listen({ path: unix.path });
      return;
    }
    if (options.fd !== undefined) {
      server.listen({ fd: options.fd });
      return;
    }
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
