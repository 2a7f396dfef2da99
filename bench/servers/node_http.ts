// Bare node:http, no framework: canned "Hello, World!" for GET /, minimal handling of the other routes.
import { createServer } from "node:http";
import { hostname, port } from "./env.ts";

const HELLO = "Hello, World!";

createServer((req, res) => {
  const url = req.url ?? "/";
  if (req.method === "GET" && url === "/") {
    res.writeHead(200, { "content-type": "text/plain; charset=UTF-8", "content-length": HELLO.length });
    res.end(HELLO);
    return;
  }
  if (req.method === "GET" && url.startsWith("/user/")) {
    const body = `User ${url.slice(6)}`;
    res.writeHead(200, { "content-type": "text/plain; charset=UTF-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (req.method === "POST" && url === "/echo") {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "content-type": "text/plain; charset=UTF-8", "content-length": body.length });
      res.end(body);
    });
    return;
  }
  res.writeHead(404, { "content-length": 9 });
  res.end("Not Found");
}).listen(port, hostname);
