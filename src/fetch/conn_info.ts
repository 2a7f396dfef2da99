/**
 * Connection information handed to the handler as its second argument
 * (`env`, Hono's `c.env`). The shape lets existing helpers work unchanged:
 * Deno-style `remoteAddr`, Bun-style `requestIP(request)`, and a node-like
 * `incoming.socket` for `@hono/node-server/conninfo`.
 *
 * @module
 */

/** A network address, in Deno's `Deno.NetAddr` shape. */
export interface NetAddr {
  /** Always `"tcp"`. */
  transport: "tcp";
  /** IP address. */
  hostname: string;
  /** Port number. */
  port: number;
}

/** Bun's `SocketAddress` shape, as returned by `requestIP()`. */
export interface SocketAddress {
  /** IP address. */
  address: string;
  /** Port number. */
  port: number;
  /** Address family. */
  family: "IPv4" | "IPv6";
}

/** What `env` carries for every request of a connection. */
export interface ConnInfo {
  /** The client's address (Deno style). */
  readonly remoteAddr: NetAddr;
  /** The address the connection was accepted on. */
  readonly localAddr: NetAddr;
  /** The runtime serving it: `"node"`, `"deno"` or `"bun"`. */
  readonly runtime: string;
  /** The client's address (Bun style); the argument is ignored. */
  requestIP(request?: Request): SocketAddress;
  /** A node-like view for `@hono/node-server/conninfo`. */
  readonly incoming: {
    socket: { remoteAddress: string; remotePort: number; remoteFamily: "IPv4" | "IPv6" };
  };
}

function familyOf(address: string): "IPv4" | "IPv6" {
  return address.includes(":") ? "IPv6" : "IPv4";
}

/** Builds the (per connection, shared by its requests) connection info. */
export function connInfo(
  remoteAddress: string,
  remotePort: number,
  localAddress: string,
  localPort: number,
  runtime: string,
): ConnInfo {
  const family = familyOf(remoteAddress);
  const ip: SocketAddress = { address: remoteAddress, port: remotePort, family };
  return {
    remoteAddr: { transport: "tcp", hostname: remoteAddress, port: remotePort },
    localAddr: { transport: "tcp", hostname: localAddress, port: localPort },
    runtime,
    requestIP: () => ip,
    incoming: { socket: { remoteAddress, remotePort, remoteFamily: family } },
  };
}
