// For heap_idle.ts: opens N connections to 127.0.0.1:PORT, one GET / each, prints "ready" once all
// were answered, and holds them until a byte arrives on stdin. Run by Node.
import { connect } from "node:net";

const [port, n] = [Number(process.argv[2]), Number(process.argv[3])];
let answered = 0;
for (let i = 0; i < n; i++) {
  const s = connect({ port, host: "127.0.0.1" });
  let got = "";
  s.on("connect", () => s.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  s.on("data", (d) => {
    got += d;
    if (got.includes("Hello, World!")) {
      got = "";
      if (++answered === n) console.log("ready");
    }
  });
  s.on("error", () => {});
}
process.stdin.on("data", () => process.exit(0));
