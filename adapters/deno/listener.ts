/**
 * Listening with `Deno.listen` (TCP, Unix socket) or `Deno.listenTls`: an
 * accept loop that hands each connection to the core as a
 * {@linkcode DenoSocket} (TLS ones once their handshake is done).
 *
 * @module
 */

import type { Listener, ListenAddress, ListenOptions, Socket, UnixListen } from "../../src/socket.ts";
import { certificateFor, type TlsSettings } from "../../src/tls.ts";
import { DenoSocket } from "./socket.ts";
import { deno, type DenoConn, type DenoListener, type DenoListenTlsOptions, type DenoNamespace } from "./types.ts";

/**
 * The key under which `Deno.listenTls` takes a certificate resolver by SNI
 * name instead of one `cert`/`key` (Deno 2.x, `ext/net/02_tls.js`: "We only
 * expose this feature via symbol for now"). Deno caches what it returns per
 * name, for the listener's life.
 */
const SNI_RESOLVER = Symbol.for("unstableSniResolver");

/** What `Deno.listenTls` cannot do, refused by name rather than ignored. */
function checkTls(t: TlsSettings): void {
  if (t.requestCert) {
    throw new Error("tls.requestCert (mutual TLS) is not available on Deno: Deno.listenTls never asks clients for a certificate (its rustls config is built with_no_client_auth); use Node or Bun");
  }
  if (t.certificates.some((c) => c.passphrase !== undefined)) {
    throw new Error("tls.passphrase is not available on Deno: Deno.listenTls takes an unencrypted key; decrypt it first (openssl pkey -in key.pem -out plain.pem)");
  }
}

/** `Deno.listenTls` options for `t`: one certificate, or the SNI resolver for several. */
function tlsListenOptions(options: ListenOptions, port: number, t: TlsSettings): DenoListenTlsOptions {
  const o: DenoListenTlsOptions = {
    hostname: options.hostname,
    port,
    transport: "tcp",
    alpnProtocols: [...t.alpnProtocols],
    ...(options.reusePort === true ? { reusePort: true } : {}),
  };
  if (t.certificates.length === 1) {
    o.cert = t.certificates[0].cert;
    o.key = t.certificates[0].key;
  } else {
    o[SNI_RESOLVER] = (serverName: string) => {
      const c = certificateFor(t, serverName);
      return { cert: c.cert, key: c.key };
    };
  }
  return o;
}

/** Before binding a Unix socket: as `adapters/_node_api/unix_socket.ts` does for Node and Bun. */
async function prepareUnixPath(d: DenoNamespace, unix: UnixListen): Promise<void> {
  let isSocket: boolean | null;
  try {
    isSocket = d.lstatSync(unix.path).isSocket;
  } catch {
    return; // nothing there
  }
  if (isSocket !== true) throw new Error(`Cannot listen on unix socket ${unix.path}: a file that is not a socket is there`);
  let alive = false;
  try {
    (await d.connect({ transport: "unix", path: unix.path })).close();
    alive = true;
  } catch {
    // refused: stale
  }
  if (alive) throw new Error(`Cannot listen on unix socket ${unix.path}: another server is accepting on it`);
  if (!unix.removeStale) {
    throw new Error(`Cannot listen on unix socket ${unix.path}: a stale socket file is there (no one accepts on it); remove it, or pass unix: { path, removeStale: true }`);
  }
  d.removeSync(unix.path);
}

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

/** `transport.listen` on `Deno.listen` / `Deno.listenTls`. */
export async function listenDeno(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
  const d = deno();
  if (options.fd !== undefined) {
    throw new Error("Serving on an inherited descriptor (fd) is not available on Deno: Deno.listen takes no descriptor (only Deno's node:net compatibility layer does, which this adapter does not accept through); use Node or Bun, or let Deno bind the port or unix socket itself");
  }
  if (options.reusePort === true && !("listenDatagram" in d)) {
    // Deno.listen({ reusePort: true }) without --unstable-net does not
    // throw: Deno prints an error and exits the process (code 70). The
    // unstable-net APIs (listenDatagram) are only present under the flag.
    throw new Error("reusePort on Deno needs the --unstable-net flag (Deno.listen({ reusePort: true }) is unstable): run deno with --unstable-net");
  }
  const t = options.tls;
  const unix = options.unix;
  if (t !== undefined) {
    checkTls(t);
    if (unix !== undefined) throw new Error("tls over a unix socket is not available on Deno: Deno.listenTls binds TCP only");
  }
  if (unix !== undefined) await prepareUnixPath(d, unix);
  // A later bind (setTls) takes the port the first one got, not 0 again.
  let port = options.port;
  const bind = (tls: TlsSettings | undefined): DenoListener => {
    if (tls !== undefined) return d.listenTls(tlsListenOptions(options, port, tls));
    if (unix !== undefined) return d.listen({ transport: "unix", path: unix.path });
    return d.listen({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
      ...(options.reusePort === true ? { reusePort: true } : {}),
    });
  };
  let listener = bind(t);
  if (unix === undefined) port = listener.addr.port;
  if (unix?.mode !== undefined) {
    try {
      d.chmodSync(unix.path, unix.mode);
    } catch (e) {
      listener.close();
      throw e;
    }
  }
  const keepAlive = unix === undefined && (options.tcpKeepAliveMs ?? 0) > 0;
  const handshakeMs = options.tlsHandshakeTimeoutMs ?? 5000;
  const hand = (conn: DenoConn): void => {
    if (t === undefined) {
      const socket = new DenoSocket(conn, null, unix !== undefined);
      socket.keepAlive = keepAlive;
      onSocket(socket);
      return;
    }
    // The core gets the socket once the handshake is done; one cut at the
    // timeout (or failed) never reaches it. The accept loop does not wait.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      options.onTlsHandshakeTimeout?.();
      try {
        conn.close();
      } catch {
        // already closed
      }
    }, handshakeMs);
    conn.handshake!().then(
      (info) => {
        clearTimeout(timer);
        if (timedOut) return;
        // Even when its listener was swapped out meanwhile (setTls): the
        // core refuses it itself once the server is closing.
        const socket = new DenoSocket(conn, info.alpnProtocol ?? "", false);
        socket.keepAlive = keepAlive;
        onSocket(socket);
      },
      () => {
        clearTimeout(timer);
        try {
          conn.close();
        } catch {
          // already closed
        }
      },
    );
  };
  const run = (l: DenoListener): { stop(): void } => {
    let open = true;
    (async () => {
      while (open) {
        let conn: DenoConn;
        try {
          conn = await l.accept();
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
        hand(conn);
      }
    })();
    return {
      stop() {
        open = false;
        try {
          l.close();
        } catch {
          // already closed
        }
      },
    };
  };
  let loop = run(listener);
  const addr = listener.addr;
  const address: ListenAddress = unix !== undefined
    ? { hostname: "localhost", port: 0, path: unix.path }
    : { hostname: addr.hostname, port: addr.port };
  const result: Listener = { address, close: () => loop.stop() };
  if (t !== undefined) {
    result.setTls = (next) => {
      // Deno cannot change a listener's certificates (and caches what an SNI
      // resolver returns per name): a new listener is bound beside the old
      // one, which SO_REUSEPORT allows, and the old one stops accepting.
      // Connections already open are kept.
      if (options.reusePort !== true) {
        return Promise.reject(
          new Error("setTls on Deno needs reusePort: true and --unstable-net (Deno.listenTls cannot change certificates; the new listener binds beside the old one)"),
        );
      }
      try {
        checkTls(next);
        const fresh = bind(next);
        const old = loop;
        listener = fresh;
        loop = run(fresh);
        old.stop();
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }
  return result;
}
