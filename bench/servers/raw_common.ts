// Shared bits for the raw-socket ceilings: no HTTP parsing at all. Each read is scanned for
// "\r\n\r\n" (one per request head; bench bodies never contain it) and that many canned 200
// responses are written back in one write. A terminator split across reads is caught by
// carrying the last 3 bytes over to the next scan.
const RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 13\r\n\r\nHello, World!";
const ONE = new TextEncoder().encode(RESPONSE);

const cache: Uint8Array[] = [];
/** `n` canned responses back to back (cached per n). */
export function responses(n: number): Uint8Array {
  let r = cache[n];
  if (r === undefined) {
    r = new Uint8Array(ONE.length * n);
    for (let i = 0; i < n; i++) r.set(ONE, i * ONE.length);
    if (n < 1024) cache[n] = r;
  }
  return r;
}

/** Per-connection counter of "\r\n\r\n" occurrences across reads. */
export class Counter {
  // How many trailing bytes of the previous read matched a prefix of \r\n\r\n (0..3).
  private state = 0;
  count(buf: Uint8Array): number {
    let n = 0;
    let s = this.state;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (b === 13) s = s === 2 ? 3 : 1; // '\r'
      else if (b === 10) {
        if (s === 1) s = 2;
        else if (s === 3) {
          n++;
          s = 0;
        } else s = 0;
      } else s = 0;
    }
    this.state = s;
    return n;
  }
}
