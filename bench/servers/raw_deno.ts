// Raw Deno.listen ceiling: count request terminators per read, answer with that many canned responses.
import { Counter, responses } from "./raw_common.ts";
import { hostname, port } from "./env.ts";

interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  setNoDelay?(v?: boolean): void;
  close(): void;
}
declare const Deno: {
  listen(opts: { hostname: string; port: number }): AsyncIterable<Conn>;
};

async function handle(conn: Conn): Promise<void> {
  const counter = new Counter();
  const buf = new Uint8Array(64 * 1024);
  try {
    conn.setNoDelay?.(true);
    for (;;) {
      const r = await conn.read(buf);
      if (r === null) break;
      const n = counter.count(buf.subarray(0, r));
      if (n === 0) continue;
      let out = responses(n);
      while (out.length > 0) {
        const w = await conn.write(out);
        out = out.subarray(w);
      }
    }
  } catch {
    // peer reset etc.
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
}

for await (const conn of Deno.listen({ hostname, port })) handle(conn);
