// Cost of ways to build the handler's Request (ns per construct, median of 5).
// Run: node bench/probes/request_forms.ts [case,...] (also deno run -A / bun).
const N = 100_000;
const url = "http://localhost:3000/user/123";
const arr: [string, string][] = [["host", "localhost:3000"], ["user-agent", "wrk"], ["accept", "*/*"]];
const obj: Record<string, string> = { host: "localhost:3000", "user-agent": "wrk", accept: "*/*" };
const tick = () => new Promise((r) => setTimeout(r, 0));
async function bench(label: string, f: (i: number) => unknown) {
  for (let i = 0; i < 20000; i++) { f(i); if (i % 500 === 0) await tick(); }
  const res: number[] = [];
  for (let r = 0; r < 5; r++) {
    let t = 0;
    let x: unknown;
    for (let b = 0; b < N / 500; b++) {
      const t0 = performance.now();
      for (let i = 0; i < 500; i++) x = f(i);
      t += performance.now() - t0;
      await tick();
    }
    res.push((t * 1e6) / N);
    (globalThis as any).sink = x;
  }
  res.sort((a, b) => a - b);
  console.log(label.padEnd(30), res[2].toFixed(0), "ns (min", res[0].toFixed(0) + ")");
}
class Sub extends Request {
  #c: AbortController | undefined;
  override get signal(): AbortSignal { return (this.#c ??= new AbortController()).signal; }
}
const which = (globalThis as any).process?.argv?.[2] ?? (globalThis as any).Deno?.args?.[0] ?? "";
const cases: Record<string, (i: number) => unknown> = {
  bare: () => new Request(url),
  pairs: () => new Request(url, { method: "GET", headers: arr }),
  object: () => new Request(url, { method: "GET", headers: obj }),
  headersObj: () => { const h = new Headers(); for (const [k, v] of arr) h.append(k, v); return new Request(url, { headers: h }); },
  bareAppend: () => { const r = new Request(url); const h = r.headers; for (const [k, v] of arr) h.append(k, v); return r; },
  subBare: () => new Sub(url),
  subPairs: () => new Sub(url, { method: "GET", headers: arr }),
  subAppend: () => { const r = new Sub(url); const h = r.headers; for (const [k, v] of arr) h.append(k, v); return r; },
  subAppendSig: () => { const r = new Sub(url); const h = r.headers; for (const [k, v] of arr) h.append(k, v); r.signal; return r; },
  subPost: () => new Sub(url, { method: "POST", headers: arr, body: new Uint8Array(16) }),
  freshSignal: () => new Request(url, { headers: arr, signal: new AbortController().signal }),
};
for (const [k, f] of Object.entries(cases)) if (!which || which.split(",").includes(k)) await bench(k, f);
