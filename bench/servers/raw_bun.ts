// Raw Bun.listen ceiling: count request terminators per read, answer with that many canned responses.
import { Counter, responses } from "./raw_common.ts";
import { hostname, port } from "./env.ts";

interface Sock {
  data: { counter: Counter; pending: Uint8Array[] };
  write(b: Uint8Array): number;
}
declare const Bun: {
  listen(opts: {
    hostname: string;
    port: number;
    socket: {
      open(s: Sock): void;
      data(s: Sock, b: Uint8Array): void;
      drain(s: Sock): void;
      error?(s: Sock, e: unknown): void;
    };
  }): unknown;
};

function flush(s: Sock): void {
  const q = s.data.pending;
  while (q.length > 0) {
    const b = q[0];
    const w = s.write(b);
    if (w < 0) return;
    if (w < b.length) {
      q[0] = b.subarray(w);
      return;
    }
    q.shift();
  }
}

Bun.listen({
  hostname,
  port,
  socket: {
    open(s) {
      s.data = { counter: new Counter(), pending: [] };
    },
    data(s, b) {
      const n = s.data.counter.count(b);
      if (n === 0) return;
      const out = responses(n);
      if (s.data.pending.length > 0) {
        s.data.pending.push(out);
        return;
      }
      const w = s.write(out);
      if (w >= 0 && w < out.length) s.data.pending.push(out.subarray(w));
    },
    drain(s) {
      flush(s);
    },
    error() {},
  },
});
