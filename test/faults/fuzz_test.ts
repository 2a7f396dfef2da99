/**
 * A fuzz pass of mutated requests against Node's llhttp as the reference
 * (issue 10): each input goes, on a fresh connection that then half-closes,
 * to anyserve (in this process, on whichever runtime runs the test) and to
 * a node:http server (`fixtures/llhttp_echo.ts`, always run by Node 24's
 * binary: Deno's and Bun's node:http are not llhttp). Both answer each
 * request with what they framed (`method target bodyLength`).
 *
 * Asserted: no smuggling-class disagreement, that is, no request that both
 * accepted at the same place in the stream with a different method, target
 * or body length. Accept/reject differences are counted, not asserted:
 * most are llhttp refusing a whole pipelined connection with one 400 when a
 * later request in the same read is bad (the earlier request's answer is
 * lost), and llhttp refusing methods outside its list (RFC 9110 allows any
 * token; anyserve does).
 * Seeded, so a failure names an input that reproduces.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { serve } from "../../mod.ts";
import { mulberry32 } from "../conformance/random.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = path.join(ROOT, "node_modules/.bin/node");
const REFERENCE = path.join(ROOT, "test/faults/fixtures/llhttp_echo.ts");
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const CONCURRENCY = 16;
/** One input's answer is whatever came back before the close, or by then. */
const INPUT_MS = 3000;

const SEEDS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
  "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
  "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
];
const INSERTS = ["\r", "\n", "\r\n", " ", "\t", "\0", ",", ":", ";", "0", "9", "a", "\x7f", "\xff",
  "\r\nContent-Length: 4", "\r\nTransfer-Encoding: chunked", "\r\nTransfer-Encoding: identity",
  "\r\nContent-Length: 0", "\r\nHost: b", " chunked", "chunked, ", "\r\n\r\n", "-1", "+5", "0x5", "00"];

function mutate(rnd: () => number): string {
  let s = SEEDS[Math.floor(rnd() * SEEDS.length)];
  const n = rnd() < 0.7 ? 1 : 2;
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = rnd();
    if (op < 0.45) s = s.slice(0, at) + INSERTS[Math.floor(rnd() * INSERTS.length)] + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 3));
    else if (op < 0.85) s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(at + 1);
    else s = s.slice(0, at) + (rnd() < 0.5 ? s.slice(at, at + 1).toUpperCase() : s.slice(at, at + 1).toLowerCase()) + s.slice(at + 1);
  }
  return s;
}

/** Sends `input`, half-closes, and returns what came back (latin1) once the server closes or time is up. */
function exchange(port: number, input: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let text = "";
    const timer = setTimeout(() => {
      s.destroy();
      resolve(text);
    }, INPUT_MS);
    s.on("data", (b: Uint8Array) => (text += new TextDecoder("latin1").decode(b)));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
    s.on("connect", () => s.end(new Uint8Array(Array.from(input, (c) => c.charCodeAt(0)))));
  });
}

/** The requests a server accepted (2xx answers: what it framed), in order, and whether it refused something. */
function accepted(text: string): { framed: string[]; refused: boolean } {
  const framed: string[] = [];
  let refused = false;
  const re = /HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const status = Number(m[1]);
    const cl = /(?:^|\r\n)content-length: *(\d+)/i.exec(m[2]);
    // No Content-Length (node:http to HTTP/1.0): the body runs to the close.
    const len = cl === null ? text.length - re.lastIndex : Number(cl[1]);
    const body = text.slice(re.lastIndex, re.lastIndex + len);
    re.lastIndex += len;
    if (status >= 200 && status < 300) framed.push(body);
    else refused = true;
  }
  return { framed, refused };
}

function startReference(): Promise<{ port: number; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [REFERENCE], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (b: Uint8Array) => {
      out += new TextDecoder().decode(b);
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({ port: (JSON.parse(line) as { port: number }).port, stop: () => child.stdin!.end() });
    });
    child.on("error", reject);
  });
}

describe("faults: parser fuzz against llhttp", { skip: existsSync(NODE) ? false : "node_modules/.bin/node (Node 24, llhttp) is missing" }, () => {
  it(`${INPUTS} mutated requests: no framing disagreement with llhttp`, { timeout: 60_000 }, async () => {
    const ref = await startReference();
    const server = serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const body = new Uint8Array(await req.arrayBuffer());
        const u = new URL(req.url);
        return new Response(`${req.method} ${u.pathname}${u.search} ${body.length}`);
      },
    });
    await server.ready;
    const rnd = mulberry32(SEED);
    const inputs = Array.from({ length: INPUTS }, () => mutate(rnd));
    const smuggling: string[] = [];
    let classDiffer = 0;
    let bothAccepted = 0;
    let onlyOurs = 0;
    let onlyTheirs = 0;
    try {
      let next = 0;
      const worker = async () => {
        while (next < inputs.length) {
          const input = inputs[next++];
          const [a, b] = await Promise.all([exchange(server.port, input), exchange(ref.port, input)]);
          const ours = accepted(a);
          const theirs = accepted(b);
          const common = Math.min(ours.framed.length, theirs.framed.length);
          if (common > 0) bothAccepted++;
          for (let i = 0; i < common; i++) {
            // Node reports the absolute-form target as sent; compare framing only.
            const [om, , ol] = ours.framed[i].split(" ");
            const [tm, , tl] = theirs.framed[i].split(" ");
            if (om !== tm || ol !== tl) {
              smuggling.push(`${JSON.stringify(input)}: anyserve ${JSON.stringify(ours.framed)} llhttp ${JSON.stringify(theirs.framed)}`);
              break;
            }
          }
          if (ours.framed.length !== theirs.framed.length) classDiffer++;
          if (ours.framed.length > 0 && theirs.framed.length === 0) onlyOurs++;
          if (theirs.framed.length > 0 && ours.framed.length === 0) onlyTheirs++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      ref.stop();
      await server.close({ deadlineMs: 100 });
    }
    if (process.env.FAULTS_REPORT) console.log(`FIG fuzz: ${INPUTS} inputs, ${bothAccepted} accepted by both, ${classDiffer} differ in requests accepted (${onlyOurs} only by anyserve, ${onlyTheirs} only by llhttp), ${smuggling.length} framing disagreements`);
    assert.deepEqual(smuggling.slice(0, 5), [], `${smuggling.length} framing disagreements with llhttp`);
  });
});
