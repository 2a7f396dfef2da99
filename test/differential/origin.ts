/**
 * The origin behind the app's proxy routes: a plain `node:http` server (the
 * same on every runtime) that echoes what reached it as JSON. Both servers
 * under comparison forward to this one origin, so any difference in what it
 * saw comes from the server in front.
 *
 * @module
 */

import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** Request headers the origin echoes; Host and the like differ by port, hop-by-hop ones by client. */
const ECHOED = ["content-type", "x-test", "x-forwarded-for", "authorization", "cookie", "accept"];

/** A started origin. */
export interface Origin {
  url: string;
  close(): Promise<void>;
}

/** Starts the origin on 127.0.0.1 and an ephemeral port. */
export function startOrigin(): Promise<Origin> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const h of ECHOED) {
        const v = req.headers[h];
        if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(", ") : v;
      }
      const body = JSON.stringify({ method: req.method, url: req.url, headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "x-origin": "yes",
        "set-cookie": ["o1=1; Path=/", "o2=2; Path=/"],
      });
      res.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}
