/**
 * Raw-socket client of the differential suite: writes requests as bytes
 * (pipelined in one write, or one after another on one connection) and
 * splits what comes back into responses byte-exactly, keeping the framing
 * (Content-Length, chunked, close-delimited) and whether each body was
 * complete. `node:net` works on Node, Deno and Bun.
 *
 * @module
 */

import * as net from "node:net";
import { Buffer } from "node:buffer";

/** One request, as the suite describes it. */
export interface Req {
  method?: string;
  /** Request target as sent on the wire (already percent-encoded where needed). */
  path: string;
  headers?: [string, string][];
  /** A fixed body, sent with Content-Length. */
  body?: string | Uint8Array;
  /** A body sent with Transfer-Encoding: chunked, one chunk per piece. */
  chunks?: (string | Uint8Array)[];
}

/** How a response's body was delimited on the wire. */
export type Framing = "length" | "chunked" | "close" | "none";

/** One response as it came off the wire. */
export interface WireResponse {
  version: string;
  status: number;
  reason: string;
  /** Names as sent (case kept), in order. */
  headers: [string, string][];
  framing: Framing;
  body: Uint8Array;
  /** The body ended as its framing says (false: cut by close or timeout). */
  complete: boolean;
}

/** Everything read from one connection. */
export interface WireResult {
  responses: WireResponse[];
  /** The server closed the connection (as opposed to our timeout). */
  closed: boolean;
  /** Bytes after the last response that did not parse as one. */
  trailing: number;
}

const enc = new TextEncoder();
const bytes = (s: string | Uint8Array) => (typeof s === "string" ? enc.encode(s) : s);

/** Serializes `req` for `host`; `close` adds `Connection: close`. */
export function serialize(req: Req, host: string, close: boolean): Uint8Array {
  let head = `${req.method ?? "GET"} ${req.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of req.headers ?? []) head += `${k}: ${v}\r\n`;
  const parts: Uint8Array[] = [];
  if (req.body !== undefined) {
    const b = bytes(req.body);
    head += `Content-Length: ${b.length}\r\n`;
    parts.push(b);
  } else if (req.chunks) {
    head += "Transfer-Encoding: chunked\r\n";
    for (const c of req.chunks) {
      const b = bytes(c);
      if (b.length === 0) continue;
      parts.push(enc.encode(b.length.toString(16) + "\r\n"), b, enc.encode("\r\n"));
    }
    parts.push(enc.encode("0\r\n\r\n"));
  }
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  return Buffer.concat([enc.encode(head), ...parts]);
}

/**
 * Parses as many whole responses as `buf` holds. `methods[i]` is the method
 * of the i-th request (a HEAD response has no body whatever it says).
 * With `eof`, a close-delimited or cut body ends the parse.
 */
export function parseWire(buf: Buffer, methods: string[], eof: boolean): { responses: WireResponse[]; used: number } {
  const responses: WireResponse[] = [];
  let i = 0;
  let reqIndex = 0;
  while (i < buf.length) {
    const end = buf.indexOf("\r\n\r\n", i, "latin1");
    if (end === -1) break;
    const lines = buf.subarray(i, end).toString("latin1").split("\r\n");
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) break;
    const status = Number(m[2]);
    const headers: [string, string][] = [];
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      headers.push([l.slice(0, c), l.slice(c + 1).trim()]);
    }
    let p = end + 4;
    const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    if (status < 200) {
      responses.push({ version: m[1], status, reason: m[3] ?? "", headers, framing: "none", body: new Uint8Array(0), complete: true });
      i = p;
      continue;
    }
    const method = methods[reqIndex++] ?? "GET";
    let framing: Framing;
    let body: Uint8Array = new Uint8Array(0);
    let complete = true;
    if (method === "HEAD" || status === 204 || status === 304) framing = "none";
    else if (get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      framing = "chunked";
      const parts: Uint8Array[] = [];
      complete = false;
      while (true) {
        const le = buf.indexOf("\r\n", p, "latin1");
        if (le === -1) break;
        const size = parseInt(buf.subarray(p, le).toString("latin1"), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          // Trailer section: lines up to an empty one.
          let q = le + 2;
          let ok = false;
          while (true) {
            const te = buf.indexOf("\r\n", q, "latin1");
            if (te === -1) break;
            if (te === q) {
              ok = true;
              q = te + 2;
              break;
            }
            q = te + 2;
          }
          if (ok) {
            p = q;
            complete = true;
          }
          break;
        }
        if (le + 2 + size + 2 > buf.length) {
          parts.push(buf.subarray(le + 2, Math.min(buf.length, le + 2 + size)));
          p = buf.length;
          break;
        }
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      if (!complete) {
        if (!eof) break;
        p = buf.length;
      }
    } else if (get("content-length") !== undefined) {
      framing = "length";
      const n = Number(get("content-length"));
      if (p + n > buf.length) {
        if (!eof) break;
        complete = false;
        body = buf.subarray(p);
        p = buf.length;
      } else {
        body = buf.subarray(p, p + n);
        p += n;
      }
    } else {
      framing = "close";
      if (!eof) break;
      body = buf.subarray(p);
      p = buf.length;
    }
    responses.push({ version: m[1], status, reason: m[3] ?? "", headers, framing, body: new Uint8Array(body), complete });
    i = p;
  }
  return { responses, used: i };
}

/**
 * Sends `reqs` on one connection to `port`: all in one write when
 * `pipelined`, else each once the previous response is whole. The last
 * request carries `Connection: close`. Reading stops at the server's close;
 * once every response is whole, a server that keeps the connection open
 * gets `closeGraceMs` to close it (then `closed` is false); `timeoutMs`
 * bounds the whole exchange.
 */
export function exchange(port: number, reqs: Req[], pipelined: boolean, timeoutMs = 5000, closeGraceMs = 2000): Promise<WireResult> {
  const host = `127.0.0.1:${port}`;
  const methods = reqs.map((r) => r.method ?? "GET");
  const wire = reqs.map((r, i) => serialize(r, host, i === reqs.length - 1));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    let sent = 0;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const socket = net.connect({ port, host: "127.0.0.1" });
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      socket.destroy();
      const buf = Buffer.concat(chunks);
      const { responses, used } = parseWire(buf, methods, true);
      resolve({ responses, closed, trailing: buf.length - used });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const sendNext = () => {
      if (sent < wire.length) socket.write(wire[sent++]);
    };
    socket.on("data", (b: Buffer) => {
      chunks.push(b);
      const { responses } = parseWire(Buffer.concat(chunks), methods, false);
      const whole = responses.filter((r) => r.status >= 200).length;
      if (!pipelined && sent < wire.length && whole >= sent) sendNext();
      if (whole >= wire.length && grace === undefined) grace = setTimeout(() => finish(false), closeGraceMs);
    });
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET" || e.code === "EPIPE") finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        clearTimeout(grace);
        reject(e);
      }
    });
    socket.on("connect", () => {
      if (pipelined) {
        socket.write(Buffer.concat(wire));
        sent = wire.length;
      } else sendNext();
    });
  });
}
