/**
 * A TCP client that sends raw bytes and collects raw bytes, for tests that
 * must control framing exactly. Uses `node:net`, which Node, Deno and Bun
 * all provide.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";

/** Options for {@linkcode rawRequest}. */
export interface RawOptions {
  /** Stop after this long even if the server keeps the connection open. @default 2000 */
  timeoutMs?: number;
  /** Resolve as soon as the collected text satisfies this. */
  until?: (text: string) => boolean;
  /** Send the input in these pieces, one write each, with a pause between. */
  pieces?: (string | Uint8Array)[];
  /** Pause between pieces. @default 5 */
  pieceDelayMs?: number;
  /** Half-close after sending. @default false */
  endAfterWrite?: boolean;
  /** Speak TLS, trusting this CA (SNI name `localhost`). */
  tls?: { ca: string };
}

/** What came back, and whether the server closed the connection. */
export interface RawResult {
  text: string;
  closed: boolean;
}

/** Sends `input` to `port` and returns everything the server sent. */
export function rawRequest(port: number, input: string | Uint8Array, options: RawOptions = {}): Promise<RawResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = options.tls === undefined
      ? net.connect({ port, host: "127.0.0.1" })
      : tls.connect({ port, host: "127.0.0.1", ca: options.tls.ca, servername: "localhost", ALPNProtocols: ["http/1.1"] });
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (b: Buffer) => {
      chunks.push(b);
      if (options.until?.(Buffer.concat(chunks).toString("latin1"))) finish(false);
    });
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET" || e.code === "EPIPE") finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    socket.on(options.tls === undefined ? "connect" : "secureConnect", async () => {
      const pieces = options.pieces ?? [input];
      for (let i = 0; i < pieces.length; i++) {
        if (done) return;
        socket.write(pieces[i]);
        if (i < pieces.length - 1) await new Promise((r) => setTimeout(r, options.pieceDelayMs ?? 5));
      }
      if (options.endAfterWrite) socket.end();
    });
  });
}

/** One parsed response from a raw byte stream. */
export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits a byte stream of HTTP/1.1 responses into responses. Handles
 * Content-Length and chunked bodies; 1xx responses are included.
 */
export function parseResponses(text: string, headRequests = 0): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let i = 0;
  let heads = headRequests;
  while (i < text.length) {
    const end = text.indexOf("\r\n\r\n", i);
    if (end === -1) break;
    const lines = text.slice(i, end).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      const k = l.slice(0, c).trim().toLowerCase();
      const v = l.slice(c + 1).trim();
      headers[k] = k in headers ? headers[k] + ", " + v : v;
    }
    i = end + 4;
    let body = "";
    if (status >= 200 && status !== 204 && status !== 304 && !(heads > 0 && status < 600 && isHead(heads))) {
      if (headers["transfer-encoding"] === "chunked") {
        while (true) {
          const le = text.indexOf("\r\n", i);
          if (le === -1) break;
          const size = parseInt(text.slice(i, le), 16);
          i = le + 2;
          if (size === 0) {
            const te = text.indexOf("\r\n", i);
            i = te + 2;
            break;
          }
          body += text.slice(i, i + size);
          i += size + 2;
        }
      } else if (headers["content-length"] !== undefined) {
        const n = Number(headers["content-length"]);
        body = text.slice(i, i + n);
        i += n;
      }
    }
    if (status >= 200) heads = Math.max(0, heads - 1);
    out.push({ status, headers, body });
  }
  return out;
}

function isHead(_n: number): boolean {
  return true;
}
