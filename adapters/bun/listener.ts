/**
 * Listening with `Bun.listen`: half-open sockets, Nagle off, on a TCP port
 * or a Unix socket, plain or TLS; each connection handed to the core as a
 * {@linkcode BunSocket} (TLS ones once their handshake is done). With
 * several certificates (SNI) or an inherited descriptor, which `Bun.listen`
 * cannot serve, Bun's `node:tls` / `node:net` server instead, its sockets as
 * {@linkcode NodeSocket}s.
 *
 * @module
 */

import { net } from "../_node_api/builtins.ts";
import type { Listener, ListenAddress, ListenOptions, Socket } from "../../src/socket.ts";
import type { TlsSettings } from "../../src/tls.ts";
import { listenNetServer } from "../_node_api/net_listen.ts";
import { NodeSocket } from "../_node_api/node_socket.ts";
import { createTlsServer } from "../_node_api/tls_server.ts";
import { applyUnixMode, prepareUnixPath } from "../_node_api/unix_socket.ts";
import { BunSocket, BunTlsSocket } from "./socket.ts";
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
 * ("TLSOptions must be an object" for a list, Bun 1.4.5): a list is served
 * by the `node:tls` path instead, and refused here (`setTls` with a list on
 * a server started with one certificate) rather than served with the first.
 */
function bunTls(t: TlsSettings): BunTlsOptions {
  if (t.certificates.length > 1) {
    throw new Error(
      "setTls with several certificates (SNI) on Bun needs a server started with several: Bun.listen, which serves one certificate, cannot take a list",
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
  const unix = options.unix;
  if (unix !== undefined) await prepareUnixPath(unix);
  const keepAliveMs = options.tcpKeepAliveMs ?? 0;
  const t = options.tls;
  if (options.fd !== undefined || (t !== undefined && t.certificates.length > 1)) {
    // Bun's node:net / node:tls servers, for what Bun.listen cannot do: accept
    // on an inherited descriptor (Bun.listen({ fd }) fails: "Failed to listen",
    // Bun 1.4.5; node:net's listen({ fd }) works), and SNI (node:tls chooses
    // the certificate by name and swaps it in place with setSecureContext).
    const keepAlive = unix === undefined && options.fd === undefined ? keepAliveMs : 0;
    const local = unix !== undefined;
    if (t === undefined) {
      const server = net().createServer({ allowHalfOpen: true, noDelay: true }, (socket) => onSocket(new NodeSocket(socket, false, local)));
      return listenNetServer(server, options, false);
    }
    const { server, setTls } = createTlsServer(options, keepAlive, (socket) => onSocket(new NodeSocket(socket, true, local)));
    return listenNetServer(server, options, options.reusePort === true, setTls);
  }
  const handshakeMs = options.tlsHandshakeTimeoutMs ?? 5000;
  const requireCert = t !== undefined && t.requestCert && t.rejectUnauthorized;
  const handlers: BunSocketHandler<BunSocket> = {
    open(s) {
      if (unix === undefined) {
        s.setNoDelay(true);
        if (keepAliveMs > 0) (s as { setKeepAlive?: (on: boolean, ms: number) => boolean }).setKeepAlive?.(true, keepAliveMs);
      }
      if (t === undefined) {
        const socket = new BunSocket(s, false, unix !== undefined);
        s.data = socket;
        onSocket(socket);
        return;
      }
      const socket = new BunTlsSocket(s, true, unix !== undefined);
      s.data = socket;
      // The core gets the socket once the handshake is done; one cut at the timeout never reaches it.
      socket.handshakeTimer = setTimeout(() => {
        socket.handshakeTimer = undefined;
        options.onTlsHandshakeTimeout?.();
        socket.destroy();
      }, handshakeMs);
    },
    handshake(s, _success, authorizationError) {
      const socket = s.data;
      if (!(socket instanceof BunTlsSocket) || socket.handshakeTimer === undefined) return;
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
      if (socket instanceof BunTlsSocket && socket.handshakeTimer !== undefined) {
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
