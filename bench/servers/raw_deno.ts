// Raw Deno.listen ceiling: count request terminators per read, answer with that many canned responses.
// RAW_READ_BYTES sets its read buffer (default 64 KiB): bench/mem_idle.ts measures the floor of an idle
// Deno connection with it set small, as anyserve's own read buffer is (1 KiB at most while idle).
import { Counter, responses } from "./raw_common.ts";
import { hostname, port, readEnv } from "./env.ts";

const READ_BYTES = Number(readEnv("RAW_READ_BYTES") ?? 64 * 1024);

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
  const buf = new Uint8Array(READ_BYTES);
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
