/**
 * An in-memory {@linkcode Socket} and a harness that drives a
 * {@linkcode Connection} with raw bytes, for tests that must not depend on a
 * runtime's TCP stack. Runtime-free: runs the same on Node, Deno and Bun.
 *
 * @module
 */

import { StatsCounters } from "../../src/stats.ts";
import type { Socket, SocketEvents } from "../../src/socket.ts";
import { Connection, type ConnectionHost } from "../../src/connection/connection.ts";
import { resolveOptions, type ServeOptions } from "../../src/options.ts";

/** A socket whose peer is the test: records writes and flow-control calls. */
export class MemorySocket implements Socket {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 40000;
  readonly localAddress = "127.0.0.1";
  readonly localPort = 8080;
  events: SocketEvents | null = null;
  /** Every write, in order. */
  readonly writes: Uint8Array[] = [];
  paused = false;
  pauseCalls = 0;
  resumeCalls = 0;
  /** `end()` was called (graceful close). */
  ended = false;
  /** `destroy()` was called. */
  destroyed = false;
  /** The close event was delivered. */
  closed = false;
  /** What `write()` returns; set false to simulate a peer that does not drain. */
  writable = true;

  start(events: SocketEvents): void {
    this.events = events;
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed || this.ended || this.destroyed) return false;
    this.writes.push(bytes.slice());
    return this.writable;
  }

  pause(): void {
    this.paused = true;
    this.pauseCalls++;
  }

  resume(): void {
    this.paused = false;
    this.resumeCalls++;
  }

  end(): void {
    if (this.ended || this.destroyed) return;
    this.ended = true;
    queueMicrotask(() => this.#close());
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.#close();
  }

  #close(): void {
    if (this.closed) return;
    this.closed = true;
    this.events?.close();
  }

  /** Everything written, decoded as latin1 so bytes map 1:1 to code units. */
  get output(): string {
    let s = "";
    for (const w of this.writes) for (let i = 0; i < w.length; i++) s += String.fromCharCode(w[i]);
    return s;
  }

  /** Total bytes written. */
  get outputBytes(): number {
    let n = 0;
    for (const w of this.writes) n += w.length;
    return n;
  }
}

/** One request as the echo handler saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: [string, string][];
  /**
   * The body as latin1 text; `"<pending>"` while it is still arriving,
   * `"<error: ...>"` when reading it failed.
   */
  body: string;
}

/** Options for {@linkcode runConnection}. */
export interface RunOptions extends Partial<Omit<ServeOptions, "fetch">> {
  /** Replace the echo handler. */
  fetch?: ServeOptions["fetch"];
  /**
   * Let the connection settle (timer ticks) after each input chunk instead
   * of only after the last one. @default false
   */
  settleBetween?: boolean;
  /** Deliver a peer half-close (`end`) after the input. @default false */
  endInput?: boolean;
}

/** What {@linkcode runConnection} observed. */
export interface RunResult {
  /** Everything the server wrote, latin1-decoded. */
  output: string;
  /** The server ended or destroyed the socket. */
  closed: boolean;
  /** Requests the handler saw, in dispatch order. */
  requests: SeenRequest[];
  socket: MemorySocket;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Waits until the socket's output and close state stop changing. */
export async function settle(socket: MemorySocket, maxTicks = 200): Promise<void> {
  let stable = 0;
  let last = -1;
  let lastClosed = false;
  for (let n = 0; n < maxTicks && stable < 3; n++) {
    await tick();
    const bytes = socket.outputBytes;
    if (bytes === last && socket.closed === lastClosed) stable++;
    else stable = 0;
    last = bytes;
    lastClosed = socket.closed;
  }
}

function latin1Of(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Creates a {@linkcode Connection} over a {@linkcode MemorySocket} with an
 * echo handler, feeds it `input` chunk by chunk through `data()`, waits for
 * the output to settle and returns what was written. `input` may also be a
 * list of groups: the connection settles between groups (use it to wait for
 * `100 Continue` before sending a body).
 */
export async function runConnection(
  input: Uint8Array[] | Uint8Array[][],
  options: RunOptions = {},
): Promise<RunResult> {
  const requests: SeenRequest[] = [];
  const echo: ServeOptions["fetch"] = async (req) => {
    const seen: SeenRequest = {
      method: req.method,
      url: req.url,
      headers: [...req.headers] as [string, string][],
      body: "<pending>",
    };
    requests.push(seen);
    try {
      seen.body = latin1Of(new Uint8Array(await req.arrayBuffer()));
    } catch (e) {
      // Only that the body failed matters here; the message is for people.
      seen.body = (e as Error).message.startsWith("Request body failed") ? "<body error>" : `<error: ${(e as Error).message}>`;
    }
    return new Response(JSON.stringify(seen), { headers: { "content-type": "application/json" } });
  };
  const { settleBetween = false, endInput = false, fetch, ...rest } = options;
  const resolved = resolveOptions({ ...rest, fetch: fetch ?? echo });
  const host: ConnectionHost = {
    options: resolved,
    runtime: "memory",
    accessLog: null,
    ctx: { waitUntil() {}, passThroughOnException() {}, props: {} },
    closing: false,
    counters: new StatsCounters(),
    gated: false,
    admit: () => "run",
    requestDone() {},
    forget() {},
    orphan() {},
    handlerFailed: (error) => new Response(`handler failed: ${String(error)}`, { status: 500 }),
    connectionClosed() {},
  };
  const socket = new MemorySocket();
  const conn = new Connection(socket, host);
  socket.start(conn);
  const groups: Uint8Array[][] = input.length > 0 && Array.isArray(input[0])
    ? input as Uint8Array[][]
    : [input as Uint8Array[]];
  for (const group of groups) {
    for (const chunk of group) {
      if (socket.closed) break;
      // The connection keeps views into what it is given: hand over a copy.
      conn.data(chunk.slice());
      if (settleBetween) await settle(socket);
      else await Promise.resolve();
    }
    await settle(socket);
  }
  if (endInput && !socket.closed) {
    conn.end();
    await settle(socket);
  }
  return { output: socket.output, closed: socket.ended || socket.destroyed, requests, socket };
}

/** One response parsed back from the output. */
export interface ParsedResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

/**
 * Splits raw server output into responses. `methods[k]` is the method of the
 * k-th request (HEAD responses have no body); interim (1xx) responses are
 * returned too, with `status < 200`. Stops at the first thing it cannot parse
 * and reports it in `rest`.
 */
export function parseResponses(output: string, methods: string[] = []): { responses: ParsedResponse[]; rest: string } {
  const responses: ParsedResponse[] = [];
  let i = 0;
  let k = 0;
  while (i < output.length) {
    const headEnd = output.indexOf("\r\n\r\n", i);
    if (headEnd === -1) break;
    const lines = output.slice(i, headEnd).split("\r\n");
    const m = /^HTTP\/1\.1 (\d{3})(?: .*)?$/.exec(lines[0]);
    if (m === null) break;
    const status = Number(m[1]);
    const headers: [string, string][] = [];
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      headers.push([line.slice(0, c).toLowerCase(), line.slice(c + 1).trim()]);
    }
    let j = headEnd + 4;
    let body = "";
    if (status >= 200) {
      const noBody = methods[k] === "HEAD" || status === 204 || status === 304;
      const cl = headers.find(([n]) => n === "content-length");
      const te = headers.find(([n]) => n === "transfer-encoding");
      if (noBody) {
        // nothing
      } else if (te !== undefined) {
        while (true) {
          const e = output.indexOf("\r\n", j);
          if (e === -1) return { responses, rest: output.slice(i) };
          const size = parseInt(output.slice(j, e), 16);
          j = e + 2;
          if (size === 0) {
            j += 2;
            break;
          }
          body += output.slice(j, j + size);
          j += size + 2;
        }
      } else if (cl !== undefined) {
        body = output.slice(j, j + Number(cl[1]));
        j += Number(cl[1]);
      }
      k++;
    }
    responses.push({ status, headers, body });
    i = j;
  }
  return { responses, rest: output.slice(i) };
}

/** Encodes a string whose code units are bytes (latin1). */
export function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}
