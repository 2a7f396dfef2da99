// A keep-alive client that sends exactly TOTAL requests over CONNS connections, one in flight on
// each, and exits when all answers are in: the fixed-count load bench/probes/instr.sh needs
// (wrk runs for a time, not a count). Answers are framed by Content-Length only, which every
// bench server sends for GET /. A connection the server closes (under valgrind a server is slow
// enough for its idle timeouts to fire) is replaced, and its unanswered request sent again.
//
//   node bench/probes/fixed_client.mjs <port> <total> [conns=8] [path=/]
//
// POST_BYTES=<n>: each request is a POST of an n-byte JSON body instead (Content-Type
// application/json, as bench/wrk/post.lua sends to /echo).
import net from "node:net";

const port = Number(process.argv[2]);
const total = Number(process.argv[3]);
const conns = Number(process.argv[4] ?? 8);
const path = process.argv[5] ?? "/";
const postBytes = Number(process.env.POST_BYTES ?? 0);
const request = postBytes > 0
  ? Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${postBytes}\r\n\r\n` +
      `{"data":"${"x".repeat(Math.max(0, postBytes - 11))}"}`.slice(0, postBytes),
    "latin1",
  )
  : Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, "latin1");
const HEAD_END = Buffer.from("\r\n\r\n");
const LENGTH = /\r\ncontent-length: *(\d+)/i;

let sent = 0;
let answered = 0;
let open = conns;

function connection() {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  let inFlight = false;
  const next = () => {
    if (sent < total) {
      sent++;
      inFlight = true;
      socket.write(request);
    } else socket.end();
  };
  socket.on("connect", next);
  socket.on("data", (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const end = pending.indexOf(HEAD_END);
      if (end < 0) return;
      const match = LENGTH.exec(pending.toString("latin1", 0, end));
      if (match === null) throw new Error("answer without Content-Length");
      const size = end + 4 + Number(match[1]);
      if (pending.length < size) return;
      pending = pending.subarray(size);
      answered++;
      inFlight = false;
      next();
    }
  });
  socket.on("error", (err) => {
    console.error(`fixed_client: ${err.message}`);
    process.exit(1);
  });
  socket.on("close", () => {
    if (inFlight) sent--;
    if (sent < total) return connection();
    if (--open === 0) {
      if (answered !== total) {
        console.error(`fixed_client: ${answered} of ${total} answered`);
        process.exit(1);
      }
    }
  });
}

for (let i = 0; i < conns; i++) connection();
