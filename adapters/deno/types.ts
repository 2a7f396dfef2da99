/**
 * The few parts of Deno's network API that the Deno adapter (`adapters/deno.ts`, `adapters/deno/`) uses, typed
 * structurally so the published declarations compile without Deno's types.
 * Only what the adapter touches is listed; shapes follow Deno 2.
 *
 * @module
 */

/** `Deno.NetAddr` (a TCP endpoint) or `Deno.UnixAddr` (`path` set, no hostname or port). */
export interface DenoNetAddr {
  readonly transport: string;
  readonly hostname: string;
  readonly port: number;
  readonly path?: string;
}

/** `Deno.Conn` (a `Deno.TcpConn`): one accepted TCP connection. */
export interface DenoConn {
  readonly localAddr: DenoNetAddr;
  readonly remoteAddr: DenoNetAddr;
  /** Reads into `p`; resolves to the count read, or `null` at EOF (peer FIN). */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves to the count written, which may be less than `p.length`. */
  write(p: Uint8Array): Promise<number>;
  /** Shuts down the write side (sends FIN). */
  closeWrite(): Promise<void>;
  /** Closes the connection; pending reads and writes reject. */
  close(): void;
  setNoDelay(noDelay?: boolean): void;
  /** `Deno.TlsConn` only: runs the handshake (once); resolves with what it agreed. */
  handshake?(): Promise<{ alpnProtocol: string | null }>;
}

/** `Deno.Listener` for TCP. */
export interface DenoListener {
  readonly addr: DenoNetAddr;
  /** Resolves to the next connection; rejects (`BadResource`) once closed. */
  accept(): Promise<DenoConn>;
  close(): void;
}

/** Options of `Deno.listen` for TCP. */
export interface DenoListenOptions {
  hostname: string;
  port: number;
  transport?: "tcp";
  /** Unstable: needs `--unstable-net`, else Deno exits the process. */
  reusePort?: boolean;
}

/** Options of `Deno.listen` for a Unix socket. */
export interface DenoUnixListenOptions {
  transport: "unix";
  path: string;
}

/** Options of `Deno.listenTls`: a certificate, or (unstable, by symbol) a resolver by SNI name. */
export interface DenoListenTlsOptions {
  hostname: string;
  port: number;
  transport?: "tcp";
  reusePort?: boolean;
  alpnProtocols?: string[];
  cert?: string;
  key?: string;
  [resolver: symbol]: ((serverName: string) => { cert: string; key: string }) | undefined;
}

/** The parts of the `Deno` namespace the adapter uses. */
export interface DenoNamespace {
  listen(options: DenoListenOptions | DenoUnixListenOptions): DenoListener;
  listenTls(options: DenoListenTlsOptions): DenoListener;
  connect(options: { transport: "unix"; path: string }): Promise<DenoConn>;
  lstatSync(path: string): { isSocket: boolean | null };
  removeSync(path: string): void;
  chmodSync(path: string, mode: number): void;
  /**
   * Present only under `--unstable-net`: the adapter uses it to tell whether
   * `reusePort` can be asked for without Deno exiting the process.
   */
  listenDatagram?: unknown;
}

/** The `Deno` global; throws where there is none. */
export function deno(): DenoNamespace {
  const d = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (d === undefined) throw new Error("adapters/deno.ts needs the Deno runtime: use anyserve/node or anyserve/bun elsewhere");
  return d;
}
