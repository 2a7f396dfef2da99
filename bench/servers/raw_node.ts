// Raw node:net ceiling: count request terminators per read, answer with that many canned responses.
import { createServer } from "node:net";
import { Counter, responses } from "./raw_common.ts";
import { hostname, port } from "./env.ts";

createServer({ noDelay: true }, (socket) => {
  const counter = new Counter();
  socket.on("data", (buf: Buffer) => {
    const n = counter.count(buf);
    if (n > 0) socket.write(responses(n));
  });
  socket.on("error", () => {});
}).listen(port, hostname);
