/**
 * Property test: random valid requests (methods, targets, fields, bodies
 * framed by Content-Length or chunked with extensions and trailers),
 * pipelined in one stream and delivered in random chunks, must all reach the
 * handler exactly as generated, answered in order, with the connection open.
 * Seeded: a failure names its seed and is reproducible.
 */

import { test } from "node:test";
import * as assert from "node:assert/strict";
import { mulberry32 } from "./random.ts";
import { bytes, parseResponses, runConnection } from "../helpers/memory_socket.ts";

const SEEDS = 60;
const CHUNKINGS = 4;

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%";
// Methods the runtime's Request carries as they are (Bun's turns a method it
// does not know, such as x~y, into GET; anyserve answers those 501).
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PURGE", "M-SEARCH", "x~y"].filter((m) => new Request("http://x/", { method: m }).method === m);

interface Generated {
  method: string;
  url: string;
  body: string;
  headers: [string, string][];
  raw: string;
}

function generator(seed: number) {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  const str = (alphabet: string, min: number, max: number) => {
    let s = "";
    const n = min + int(max - min + 1);
    for (let i = 0; i < n; i++) s += alphabet[int(alphabet.length)];
    return s;
  };
  const ows = () => pick(["", "", " ", "\t", "  ", " \t"]);
  /** field-value: field-vchar, inner SP/HTAB, obs-text; no OWS at either end. */
  const value = () => {
    const n = int(12);
    let s = "";
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.8) s += String.fromCharCode(0x21 + int(0x5e));
      else if (r < 0.9) s += pick([" ", "\t"]);
      else s += String.fromCharCode(0x80 + int(0x80));
    }
    return s.replace(/^[ \t]+|[ \t]+$/g, "");
  };
  const body = (max: number) => {
    let s = "";
    const n = int(max + 1);
    for (let i = 0; i < n; i++) s += String.fromCharCode(int(256));
    return s;
  };
  const chunkExt = () => {
    if (rand() < 0.6) return "";
    let s = "";
    const n = 1 + int(2);
    for (let i = 0; i < n; i++) {
      s += pick(["", " ", "\t "]) + ";" + pick(["", " "]) + str(TCHAR, 1, 6);
      const r = rand();
      if (r < 0.33) s += pick(["", " "]) + "=" + pick(["", " "]) + str(TCHAR, 1, 6);
      else if (r < 0.66) s += "=" + '"' + str("ab ;=,\\t", 0, 6).replace(/\\/g, "\\\\") + '"';
    }
    return s;
  };

  return function request(index: number): Generated {
    const method = pick(METHODS);
    const target = "/" + str(PCHAR.replace("%", ""), 0, 20) + (rand() < 0.3 ? "?" + str(PCHAR + "/?", 0, 12) : "");
    const headers: [string, string][] = [];
    const nh = int(6);
    for (let i = 0; i < nh; i++) headers.push([`x-p${index}-${i}${str(TCHAR, 0, 4).toLowerCase()}`, value()]);
    let raw = (rand() < 0.1 ? "\r\n" : "") + `${method} ${target} HTTP/1.1\r\n`;
    const lines: string[] = [`${pick(["Host", "host", "HOST"])}:${ows()}x${ows()}\r\n`];
    for (const [n, v] of headers) {
      const name = rand() < 0.5 ? n : n.toUpperCase();
      lines.push(`${name}:${ows()}${v}${ows()}\r\n`);
    }
    const b = method === "GET" && rand() < 0.5 ? "" : body(rand() < 0.1 ? 3000 : 40);
    const framing = rand();
    if (framing < 0.45) {
      if (b.length > 0 || rand() < 0.5) lines.push(`Content-Length: ${"0".repeat(int(3))}${b.length}\r\n`);
      raw += shuffle(lines, int).join("") + "\r\n" + b;
    } else {
      lines.push(`Transfer-Encoding:${ows()}${pick(["chunked", "Chunked", ", chunked"])}${ows()}\r\n`);
      raw += shuffle(lines, int).join("") + "\r\n";
      let i = 0;
      while (i < b.length) {
        const n = Math.min(b.length - i, 1 + int(50));
        raw += pick(["", "0", "00"]) + (rand() < 0.5 ? n.toString(16) : n.toString(16).toUpperCase()) + chunkExt() + "\r\n";
        raw += b.slice(i, i + n) + "\r\n";
        i += n;
      }
      raw += "0" + chunkExt() + "\r\n";
      const nt = rand() < 0.3 ? 1 + int(2) : 0;
      for (let t = 0; t < nt; t++) raw += `${str(TCHAR, 1, 8)}:${ows()}${value()}${ows()}\r\n`;
      raw += "\r\n";
    }
    // The URL a Request would show for this target (dot segments resolved,
    // some characters percent-encoded): what the server must hand out.
    return { method, url: new URL("http://x" + target).href, body: b, headers, raw };
  };
}

function shuffle<T>(a: T[], int: (n: number) => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

for (let seed = 1; seed <= SEEDS; seed++) {
  test(`property: pipelined random requests, seed ${seed}`, async () => {
    const gen = generator(seed);
    const rand = mulberry32(seed * 31 + 7);
    const count = 1 + Math.floor(rand() * 20);
    const reqs: Generated[] = [];
    for (let i = 0; i < count; i++) reqs.push(gen(i));
    const stream = bytes(reqs.map((r) => r.raw).join(""));
    const plans: Uint8Array[][] = [[stream]];
    for (let c = 0; c < CHUNKINGS; c++) {
      const max = 1 + Math.floor(rand() * (c === 0 ? 4 : 200));
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length;) {
        const n = 1 + Math.floor(rand() * max);
        chunks.push(stream.subarray(i, i + n));
        i += n;
      }
      plans.push(chunks);
    }
    const results = await Promise.all(plans.map((p) => runConnection(p)));
    for (let k = 0; k < results.length; k++) {
      const r = results[k];
      const where = `seed ${seed}, chunking ${k}`;
      assert.equal(r.requests.length, reqs.length, `${where}: request count\n${r.output.slice(0, 400)}`);
      for (let i = 0; i < reqs.length; i++) {
        const want = reqs[i];
        const got = r.requests[i];
        assert.equal(got.method, want.method, `${where}: #${i} method`);
        assert.equal(got.url, want.url, `${where}: #${i} url`);
        // A GET or HEAD body is read and dropped, as by each runtime's own server.
      assert.equal(got.body, want.method === "GET" || want.method === "HEAD" ? "" : want.body, `${where}: #${i} body`);
        const mine = got.headers.filter(([n]) => n.startsWith(`x-p${i}-`));
        const expected = want.headers.map(([n, v]) => [n, v] as [string, string]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
        assert.deepEqual(mine.sort((a, b) => (a[0] < b[0] ? -1 : 1)), expected, `${where}: #${i} headers`);
      }
      const { responses, rest } = parseResponses(r.output, r.requests.map((q) => q.method));
      assert.equal(rest, "", `${where}: unparsed output`);
      assert.deepEqual(responses.map((x) => x.status), reqs.map(() => 200), `${where}: statuses`);
      assert.equal(r.closed, false, `${where}: connection stays open`);
    }
  });
}
