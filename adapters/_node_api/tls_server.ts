/**
 * A `node:tls` server with the core's TLS settings: SNI by `SNICallback`,
 * mutual TLS, ALPN, the handshake timeout (counted), and `setTls` in place
 * with `setSecureContext`. Node's TLS listener, and Bun's when it must serve
 * several certificates (`Bun.listen` takes one; Bun's `node:tls` server
 * chooses by SNI). Adapter private: only `adapters/node/` and `adapters/bun/`
 * import it.
 *
 * @module
 */

import type * as net from "node:net";
import type * as tls from "node:tls";
import { tls as nodeTls } from "./builtins.ts";
import type { ListenOptions } from "../../src/socket.ts";
import { certificateFor, type TlsCertificate, type TlsSettings } from "../../src/tls.ts";

/** `tls.createSecureContext` options for one certificate. */
function contextOptions(c: TlsCertificate, t: TlsSettings): tls.SecureContextOptions {
  return { cert: c.cert, key: c.key, passphrase: c.passphrase, ...(t.ca.length > 0 ? { ca: [...t.ca] } : {}) };
}

/** The secure contexts by certificate (the default certificate's is the server's own). */
function sniContexts(t: TlsSettings): Map<TlsCertificate, tls.SecureContext> {
  const map = new Map<TlsCertificate, tls.SecureContext>();
  for (const c of t.certificates.slice(1)) map.set(c, nodeTls().createSecureContext(contextOptions(c, t)));
  return map;
}

/**
 * A `tls.Server` for `options.tls` (not yet listening), calling `onSecure`
 * with each connection whose handshake is done; one cut at
 * `options.tlsHandshakeTimeoutMs` is reported to `options.onTlsHandshakeTimeout`.
 * @param keepAliveMs TCP keep-alive idle time for the sockets under TLS; 0: off
 */
export function createTlsServer(
  options: ListenOptions,
  keepAliveMs: number,
  onSecure: (socket: tls.TLSSocket) => void,
): { server: tls.Server; setTls: (t: TlsSettings) => Promise<void> } {
  const t = options.tls!;
  let settings = t;
  let contexts = sniContexts(t);
  const server = nodeTls().createServer({
    ...contextOptions(t.certificates[0], t),
    allowHalfOpen: true,
    noDelay: true,
    ALPNProtocols: [...t.alpnProtocols],
    requestCert: t.requestCert,
    rejectUnauthorized: t.rejectUnauthorized,
    handshakeTimeout: options.tlsHandshakeTimeoutMs,
    SNICallback(servername, cb) {
      cb(null, contexts.get(certificateFor(settings, servername))); // undefined: the default context
    },
  });
  server.on("secureConnection", onSecure);
  // Keep-alive probes are set on the TCP socket under the TLS one.
  if (keepAliveMs > 0) server.on("connection", (raw: net.Socket) => raw.setKeepAlive(true, keepAliveMs));
  server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    if (error.code === "ERR_TLS_HANDSHAKE_TIMEOUT") options.onTlsHandshakeTimeout?.();
    socket.destroy();
  });
  const setTls = (next: TlsSettings): Promise<void> => {
    try {
      // Build everything first: a bad key must leave the old certificates in place.
      const nextContexts = sniContexts(next);
      server.setSecureContext(contextOptions(next.certificates[0], next));
      settings = next;
      contexts = nextContexts;
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return { server, setTls };
}
