/**
 * Listening with `Bun.listen`: half-open sockets, Nagle off, on a TCP port
 * or a Unix socket, plain or TLS; each connection handed to the core as a
 * {@linkcode BunSocket} (TLS ones once their handshake is done).
 *
 * @module
 */

import type { Listener, ListenAddress, ListenOptions, Socket } from "../../src/socket.ts";
import type { TlsSettings } from "../../src/tls.ts";
import { applyUnixMode, prepareUnixPath } from "../_node_api/unix_socket.ts";
import { BunSocket } from "./socket.ts";
import { bun, type BunSocketHandler, type BunTCPListener, type BunTlsOptions } from "./types.ts";

/** ALPN protocol names in the wire format Bun takes (RFC 7301: each name after its length byte). */
function alpnWire(names: readonly string[]): ArrayBuffer {
  const parts = names.map((n) => new TextEncoder().encode(n));
  const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out.buffer;
}

/**
 * Bun's `tls` option for `settings`. `Bun.listen` takes one certificate
 * ("TLSOptions must be an object" for a list, Bun 1.4.5), so SNI with
 * several is refused here rather than served with the first alone.
 */
function bunTls(t: TlsSettings): BunTlsOptions {
  if (t.certificates.length > 1) {
    throw new Error(
      "tls with several certificates (SNI) is not available on Bun: Bun.listen takes one certificate; serve one certificate (with every name in its subjectAltName), or use Node",
    );
  }
  const c = t.certificates[0];
  return {
    cert: c.cert,
    key: c.key,
    ...(c.passphrase !== undefined ? { passphrase: c.passphrase } : {}),
    ...(t.ca.length > 0 ? { ca: [...t.ca] } : {}),
    requestCert: t.requestCert,
    rejectUnauthorized: t.rejectUnauthorized,
    ALPNProtocols: alpnWire(t.alpnProtocols),
  };
}

/** `transport.listen` on `Bun.listen`. */
export async function listenBun(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  if (options.fd !== undefined) {
    throw new Error("Serving on an inherited descriptor (fd) is not available on Bun: Bun.listen cannot accept on one (\"Failed to listen\", Bun 1.4.5); use Node, or let Bun bind the port or unix socket itself");
  }
  const unix = options.unix;
  if (unix !== undefined) await prepareUnixPath(unix);
  const keepAliveMs = options.tcpKeepAliveMs ?? 0;
  const t = options.tls;
  const handshakeMs = options.tlsHandshakeTimeoutMs ?? 5000;
  const requireCert = t !== undefined && t.requestCert && t.rejectUnauthorized;
  const handlers: BunSocketHandler<BunSocket> = {
    open(s) {
      if (unix === undefined) {
        s.setNoDelay(true);
        if (keepAliveMs > 0) (s as { setKeepAlive?: (on: boolean, ms: number) => boolean }).setKeepAlive?.(true, keepAliveMs);
      }
      const socket = new BunSocket(s, t !== undefined, unix !== undefined);
      s.data = socket;
      if (t === undefined) {
        onSocket(socket);
        return;
      }
      // The core gets the socket once the handshake is done; one cut at the timeout never reaches it.
      socket.handshakeTimer = setTimeout(() => {
        socket.handshakeTimer = undefined;
        options.onTlsHandshakeTimeout?.();
        socket.destroy();
      }, handshakeMs);
    },
    handshake(s, _success, authorizationError) {
      const socket = s.data;
      if (socket === undefined || socket.handshakeTimer === undefined) return;
      clearTimeout(socket.handshakeTimer);
      socket.handshakeTimer = undefined;
      socket.authorized = authorizationError === null;
      if (requireCert && authorizationError !== null) {
        socket.destroy();
        return;
      }
      onSocket(socket);
    },
    data: (s, d) => s.data.onData(d),
    drain: (s) => s.data.onDrain(),
    end: (s) => s.data.onEnd(),
    close: (s) => {
      const socket = s.data;
      if (socket?.handshakeTimer !== undefined) {
        clearTimeout(socket.handshakeTimer);
        socket.handshakeTimer = undefined;
      }
      socket?.onClose();
    },
    error: (s) => s.data?.onError(),
  };
  // A later bind (setTls) takes the port the first one got, not 0 again.
  let port = options.port;
  const bind = (tls: TlsSettings | undefined): BunTCPListener => {
    const common = { allowHalfOpen: true, socket: handlers, ...(tls !== undefined ? { tls: bunTls(tls) } : {}) };
    if (unix !== undefined) return bun().listen<BunSocket>({ unix: unix.path, ...common });
    return bun().listen<BunSocket>({
      hostname: options.hostname,
      port,
      ...(options.reusePort === true ? { reusePort: true } : {}),
      ...common,
    });
  };
  let listener = bind(t);
  port = listener.port;
  if (unix !== undefined) {
    try {
      applyUnixMode(unix);
    } catch (e) {
      listener.stop(false);
      throw e;
    }
  }
  const address: ListenAddress = unix !== undefined
    ? { hostname: "localhost", port: 0, path: unix.path }
    : { hostname: listener.hostname, port: listener.port };
  const result: Listener = { address, close: () => listener.stop(false) };
  if (t !== undefined) {
    result.setTls = (next) => {
      // Bun cannot change a listener's certificates (`listener.reload` takes
      // handlers only): a new listener is bound beside the old one, which
      // SO_REUSEPORT allows, and the old one stops accepting. Connections
      // already open are kept.
      if (options.reusePort !== true || unix !== undefined) {
        return Promise.reject(
          new Error("setTls on Bun needs reusePort: true (Bun.listen cannot change certificates; the new listener binds beside the old one)"),
        );
      }
      try {
        const fresh = bind(next);
        const old = listener;
        listener = fresh;
        old.stop(false);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }
  return result;
}
