/**
 * The server contract, run unchanged on Node, Deno and Bun: real sockets on
 * 127.0.0.1, a Hono app, raw-bytes framing cases, every limit, streaming
 * both ways, disconnects and graceful close.
 *
 * Each runtime's entry (`node_test.ts`, `deno_test.ts`, `bun_test.ts`) calls
 * {@linkcode defineServerSuite} with the `serve` of its adapter.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { stream, streamSSE } from "hono/streaming";
// The helpers themselves, by file: `hono/deno` as a whole touches `Deno` at load time.
// @ts-ignore: a JS file of Hono's; its types are published under another path
import { getConnInfo as getConnInfoDeno } from "../../node_modules/hono/dist/adapter/deno/conninfo.js";
// @ts-ignore: as above
import { getConnInfo as getConnInfoBun } from "../../node_modules/hono/dist/adapter/bun/conninfo.js";
import type { Server, ServeOptions } from "../../mod.ts";
import { parseResponses, type RawOptions, type RawResult, rawRequest as rawRequestPlain } from "../helpers/raw_client.ts";

/** How the suite starts a server on the runtime under test. */
export type ServeFn = (options: ServeOptions) => Server;

/**
 * How the suite's clients reach the server when not over plain TCP: the
 * same cases then run over TLS (`tls_suite_test.ts`).
 */
export interface SuiteTransport {
  /** Added to every `serve()` the suite makes (`{ tls }`). */
  serveOptions: Partial<ServeOptions>;
  /** `"https"`. */
  scheme: string;
  /** A `fetch` that trusts the server's certificate. */
  fetch: typeof fetch;
  /** What the raw client needs to speak TLS. */
  raw: RawOptions["tls"];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops one body read after `n` bytes; lets tests observe cancellation. */
function makeApp(events: string[]) {
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("x-middleware", "1");
  });
  app.get("/", (c) => c.text("Hello, World!"));
  app.get("/user/:id", (c) => c.text(`user ${c.req.param("id")}`));
  app.get("/json", (c) => c.json({ ok: true, n: 1 }));
  app.post("/json", async (c) => {
    const body = await c.req.json();
    return c.json({ got: body });
  });
  app.post("/echo", async (c) => c.text(await c.req.text()));
  app.get("/delay/:ms", async (c) => {
    await sleep(Number(c.req.param("ms")));
    return c.text(`slept ${c.req.param("ms")}`);
  });
  app.get("/headers", (c) => c.json(Object.fromEntries(c.req.raw.headers)));
  app.get("/url", (c) => c.text(c.req.url));
  app.get("/throw", () => {
    throw new Error("boom (expected in tests)");
  });
  app.get("/reject", async () => {
    await sleep(1);
    throw new Error("async boom (expected in tests)");
  });
  app.get("/empty", (c) => c.body(null, 204));
  app.get("/bye", (c) => c.text("bye", 200, { connection: "close" }));
  app.get("/env", (c) => {
    const env = c.env as {
      remoteAddr: { hostname: string; port: number };
      localAddr: { hostname: string; port: number };
      requestIP(r: Request): { address: string; port: number };
      incoming: { socket: { remoteAddress: string; remotePort: number; remoteFamily: string } };
      runtime: string;
      protocol: string;
    };
    return c.json({
      hostname: env.remoteAddr.hostname,
      port: env.remoteAddr.port,
      ip: env.requestIP(c.req.raw).address,
      ipPort: env.requestIP(c.req.raw).port,
      incoming: env.incoming.socket,
      local: env.localAddr,
      runtime: env.runtime,
      protocol: env.protocol,
    });
  });
  app.get("/conninfo", (c) => {
    // Hono's own helpers, unchanged: Deno's reads c.env.remoteAddr, Bun's calls c.env.requestIP().
    const d = getConnInfoDeno(c);
    const b = getConnInfoBun(c);
    return c.json({ deno: d.remote.address, bun: b.remote.address, port: d.remote.port });
  });
  app.get("/stream", (c) =>
    stream(c, async (s) => {
      for (let i = 0; i < 3; i++) {
        await s.write(`part${i};`);
        await sleep(5);
      }
    }));
  app.get("/sse", (c) =>
    streamSSE(c, async (s) => {
      for (let i = 0; i < 2; i++) await s.writeSSE({ data: `tick ${i}`, event: "t" });
    }));
  app.get("/forever", (c) => {
    c.req.raw.signal.addEventListener("abort", () => events.push("signal-aborted"));
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        await sleep(5);
        ctl.enqueue(new TextEncoder().encode(`chunk ${i++}\n`));
      },
      cancel() {
        events.push("stream-cancelled");
      },
    });
    return new Response(body);
  });
  app.get("/wait-abort", (c) =>
    new Promise<Response>((resolve) => {
      c.req.raw.signal.addEventListener("abort", () => {
        events.push("wait-aborted");
        resolve(new Response("late"));
      });
    }));
  app.post("/count", async (c) => {
    // Reads the body as a stream, chunk by chunk.
    const reader = c.req.raw.body!.getReader();
    let n = 0;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
    }
    return c.text(String(n));
  });
  app.post("/ignore-body", (c) => c.text("ignored"));
  app.post("/ab", async (c) => {
    const ab = await c.req.raw.clone().arrayBuffer();
    const bytes = await c.req.raw.bytes();
    return c.json({ len: ab.byteLength, text: new TextDecoder().decode(ab), bytesLen: bytes.length, bytesBuf: bytes.buffer.byteLength });
  });
  app.post("/chunk-buffers", async (c) => {
    // Every chunk's ArrayBuffer must hold that chunk and nothing else.
    const reader = c.req.raw.body!.getReader();
    let exact = true;
    let text = "";
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.buffer.byteLength !== value.byteLength || value.byteOffset !== 0) exact = false;
      text += new TextDecoder().decode(value);
    }
    return c.json({ exact, text });
  });
  app.get("/big", (c) => c.body("x".repeat(1024 * 1024)));
  app.get("/text/:kind", (c) => c.text(TEXTS[c.req.param("kind")]));
  app.get("/instanceof", (c) => c.text(String(c.req.raw instanceof Request)));
  return app;
}

/** String bodies the server encodes itself (`/text/:kind`): each kind of UTF-8, short and long. */
const TEXTS: Record<string, string> = {
  short: "héllo",
  accents: "é".repeat(300),
  emoji: "😀".repeat(100) + "!",
  ascii: "a".repeat(5000),
  // A lone surrogate is written as U+FFFD, as TextEncoder and each runtime's Response write it.
  lone: "\ud800" + "b".repeat(300),
};

/** Defines the whole suite against `serve`. */
export function defineServerSuite(runtime: string, servePlain: ServeFn, transport?: SuiteTransport): void {
  const serve: ServeFn = transport === undefined ? servePlain : (o) => servePlain({ ...o, ...transport.serveOptions });
  const fetch = transport?.fetch ?? globalThis.fetch;
  const scheme = transport?.scheme ?? "http";
  const rawRequest = (port: number, input: string | Uint8Array, o: RawOptions = {}): Promise<RawResult> =>
    rawRequestPlain(port, input, transport === undefined ? o : { ...o, tls: transport.raw });
  describe(`anyserve on ${runtime}`, () => {
    const events: string[] = [];
    let server: Server;
    let port = 0;
    let base = "";

    before(async () => {
      const app = makeApp(events);
      server = serve({
        fetch: app.fetch,
        port: 0,
        hostname: "127.0.0.1",
        maxHeaderBytes: 4096,
        maxHeaderCount: 50,
        maxRequestTargetBytes: 1024,
        maxBodyBytes: 64 * 1024,
      });
      await server.ready;
      port = server.port;
      base = `${scheme}://127.0.0.1:${port}`;
    });

    after(async () => {
      await server.close({ deadlineMs: 1000 });
    });

    describe("Hono app", () => {
      it("serves routes, params and middleware", async () => {
        const r = await fetch(`${base}/user/42`);
        assert.equal(r.status, 200);
        assert.equal(await r.text(), "user 42");
        assert.equal(r.headers.get("x-middleware"), "1");
        assert.ok(r.headers.get("date"));
      });

      it("round-trips JSON with c.req.json()", async () => {
        const r = await fetch(`${base}/json`, { method: "POST", body: JSON.stringify({ a: [1, 2] }), headers: { "content-type": "application/json" } });
        assert.deepEqual(await r.json(), { got: { a: [1, 2] } });
      });

      it("answers 404 for unknown routes", async () => {
        const r = await fetch(`${base}/nope`);
        assert.equal(r.status, 404);
        await r.text();
      });

      it("streams with hono/streaming stream()", async () => {
        const r = await fetch(`${base}/stream`);
        assert.equal(await r.text(), "part0;part1;part2;");
      });

      it("streams server-sent events", async () => {
        const r = await fetch(`${base}/sse`);
        assert.match(r.headers.get("content-type") ?? "", /text\/event-stream/);
        const text = await r.text();
        assert.match(text, /event: t\ndata: tick 0\n\n/);
        assert.match(text, /data: tick 1/);
      });

      it("gives the handler connection info in env", async () => {
        const r = await fetch(`${base}/env`);
        const j = await r.json() as {
          hostname: string;
          port: number;
          ip: string;
          ipPort: number;
          incoming: { remoteAddress: string; remotePort: number; remoteFamily: string };
          local: { hostname: string; port: number };
          runtime: string;
          protocol: string;
        };
        assert.equal(j.hostname, "127.0.0.1");
        assert.equal(j.ip, "127.0.0.1");
        assert.ok(j.port > 0);
        // Every shape reads the same socket.
        assert.equal(j.ipPort, j.port);
        assert.deepEqual(j.incoming, { remoteAddress: "127.0.0.1", remotePort: j.port, remoteFamily: "IPv4" });
        assert.deepEqual(j.local, { transport: "tcp", hostname: "127.0.0.1", port });
        assert.equal(j.runtime, runtime.split(" ")[0]);
        assert.equal(j.protocol, scheme);
      });

      it("works with Hono's getConnInfo helpers for Deno and Bun", async () => {
        const r = await fetch(`${base}/conninfo`);
        const j = await r.json() as { deno: string; bun: string; port: number };
        assert.equal(j.deno, "127.0.0.1");
        assert.equal(j.bun, "127.0.0.1");
        assert.ok(j.port > 0);
      });

      it("hands the handler a Request (instanceof) without patching globals", async () => {
        const r = await fetch(`${base}/instanceof`);
        assert.equal(await r.text(), "true");
      });

      it("builds the URL from Host and the request-target", async () => {
        const { text } = await rawRequest(port, "GET /url?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n");
        assert.equal(parseResponses(text)[0].body, `${scheme}://example.com:8080/url?x=1`);
      });

      it("keeps each connection's partial head and URL apart while many arrive in pieces at once", async () => {
        // Heads split mid-line and mid-field, pipelined behind a whole one, on
        // connections whose pieces interleave: every head waits on its own
        // connection, and every URL is its own Host's and target's.
        const conns = Array.from({ length: 6 }, (_, n) => {
          const first = `GET /url?c=${n}&r=1 HTTP/1.1\r\nHost: h${n}.test\r\n\r\n`;
          const second = `GET /url?c=${n}&r=2 HTTP/1.1\r\nHost: h${n}.test:81\r\nX-Pad: ${"p".repeat(n * 40)}\r\nConnection: close\r\n\r\n`;
          const all = first + second;
          // Connection n cuts its bytes at different places: inside the request line,
          // inside a field, between the two requests, just before the blank line.
          const cuts = [3 + n, first.length - 2 - n, first.length + 7, all.length - 1].filter((c, i, a) => c > 0 && c < all.length && a.indexOf(c) === i).sort((x, y) => x - y);
          const pieces: string[] = [];
          let at = 0;
          for (const c of cuts) {
            pieces.push(all.slice(at, c));
            at = c;
          }
          pieces.push(all.slice(at));
          return rawRequest(port, all, { pieces, pieceDelayMs: 3 + (n % 3) });
        });
        // An HTTP/1.0 request without Host meanwhile: its URL's origin is the local address.
        const bare = rawRequest(port, "GET /url?c=bare HTTP/1.0\r\n\r\n");
        const results = await Promise.all(conns);
        results.forEach(({ text }, n) => {
          const rs = parseResponses(text);
          assert.deepEqual(rs.map((r) => r.body), [`${scheme}://h${n}.test/url?c=${n}&r=1`, `${scheme}://h${n}.test:81/url?c=${n}&r=2`], `connection ${n}`);
        });
        assert.equal(parseResponses((await bare).text)[0].body, `${scheme}://127.0.0.1:${port}/url?c=bare`);
      });

      it("gives the URL a Request would: dot segments, percent-encoding, host case, default port", async () => {
        const echo = serve({ fetch: (req) => new Response(req.url), port: 0, hostname: "127.0.0.1" });
        await echo.ready;
        try {
          const cases: [string, string, string][] = [
            ["/a/../b/./c", "a", "http://a/b/c"],
            ['/q"<>`{}', "a", "http://a/q%22%3C%3E%60%7B%7D"],
            ["/x\\y", "a", "http://a/x/y"],
            ['/p?q="1"', "a", "http://a/p?q=%221%22"],
            ["/", "Example.COM:80", "http://example.com/"],
            ["/file.png?v=1.2&x=%41", "a:3000", "http://a:3000/file.png?v=1.2&x=%41"],
          ];
          for (const [target, host, expected] of cases) {
            const { text } = await rawRequest(echo.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
            // Over TLS: what a Request gives for https (443, not 80, is then the default port).
            const want = scheme === "http" ? expected : new Request(`${scheme}://${host}${target}`).url;
            assert.equal(parseResponses(text)[0].body, want, `${target} with Host ${host}`);
            assert.equal(want, new Request(`${scheme}://${host}${target}`).url, "the expectation is what a Request gives");
          }
        } finally {
          await echo.close({ deadlineMs: 100 });
        }
      });

      it("exposes request headers", async () => {
        const { text } = await rawRequest(port, "GET /headers HTTP/1.1\r\nHost: a\r\nX-One:  spaced value \t\r\nx-two: 2\r\nConnection: close\r\n\r\n");
        const h = JSON.parse(parseResponses(text)[0].body);
        assert.equal(h["x-one"], "spaced value");
        assert.equal(h["x-two"], "2");
      });
    });

    describe("HTTP/1.1 semantics", () => {
      it("keeps a connection alive across requests", async () => {
        const { text, closed } = await rawRequest(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /user/7 HTTP/1.1\r\nHost: a\r\n\r\n", {
          until: (t) => parseResponses(t).length === 2,
        });
        const rs = parseResponses(text);
        assert.deepEqual(rs.map((r) => r.body), ["Hello, World!", "user 7"]);
        // A fixed body goes out with Content-Length, never chunked.
        assert.equal(rs[0].headers["content-length"], "13");
        assert.equal(rs[0].headers["transfer-encoding"], undefined);
        assert.equal(closed, false);
      });

      it("writes string bodies as UTF-8 with their byte length, pipelined and on HEAD", async () => {
        const kinds = Object.keys(TEXTS);
        const reqs = kinds.map((k) => `GET /text/${k} HTTP/1.1\r\nHost: a\r\n\r\n`).join("");
        const { text } = await rawRequest(port, reqs + "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        const rs = parseResponses(text);
        assert.equal(rs.length, kinds.length + 1);
        kinds.forEach((k, n) => {
          const want = new TextEncoder().encode(TEXTS[k]);
          assert.equal(rs[n].headers["content-length"], String(want.length), k);
          assert.deepEqual(new Uint8Array(Buffer.from(rs[n].body, "latin1")), want, k);
        });
        assert.equal(rs[kinds.length].body, "Hello, World!");
        // HEAD (a plain handler: Hono answers HEAD with a null body): the length, no body.
        const plain = serve({ fetch: (req) => new Response(TEXTS[new URL(req.url).pathname.slice(1)]), port: 0, hostname: "127.0.0.1" });
        await plain.ready;
        try {
          for (const k of ["accents", "emoji"]) {
            const head = await rawRequest(plain.port, `HEAD /${k} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
            const [res] = parseResponses(head.text, 1);
            assert.equal(res.headers["content-length"], String(new TextEncoder().encode(TEXTS[k]).length), k);
            assert.ok(head.text.endsWith("\r\n\r\n"), `HEAD ${k}: no body`);
          }
        } finally {
          await plain.close({ deadlineMs: 1000 });
        }
      });

      it("writes a response's fields however the Response was made or edited", async () => {
        const plain = serve({
          fetch: (req) => {
            const path = new URL(req.url).pathname;
            if (path === "/text") return new Response("t");
            if (path === "/json") return Response.json({ a: 1 });
            if (path === "/init") return new Response("i", { headers: [["X-A", "1"], ["X-A", "2"], ["Content-Type", "text/x-init"]] });
            const r = new Response("e", { headers: { "X-A": "1", "X-Gone": "1" } });
            r.headers.set("x-a", "2");
            r.headers.append("X-B", "3");
            r.headers.delete("x-gone");
            return r;
          },
          port: 0,
          hostname: "127.0.0.1",
        });
        await plain.ready;
        try {
          const reqs = ["text", "json", "init", "edited"].map((p) => `GET /${p} HTTP/1.1\r\nHost: a\r\n\r\n`).join("");
          const { text } = await rawRequest(plain.port, reqs + "GET /text HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
          const [t, j, i, e] = parseResponses(text);
          assert.match(t.headers["content-type"], /^text\/plain;\s*charset=utf-8$/i);
          assert.equal(t.body, "t");
          assert.match(j.headers["content-type"], /^application\/json/);
          assert.equal(j.body, '{"a":1}');
          // Both values of X-A, and the handler's type alone (no implied one beside it).
          assert.equal(i.headers["x-a"], "1, 2");
          assert.equal(i.headers["content-type"], "text/x-init");
          assert.equal(e.headers["x-a"], "2");
          assert.equal(e.headers["x-b"], "3");
          assert.equal(e.headers["x-gone"], undefined);
          assert.match(e.headers["content-type"], /^text\/plain;\s*charset=utf-8$/i);
        } finally {
          await plain.close({ deadlineMs: 1000 });
        }
      });

      it("answers pipelined requests in order, sync and async, with bodies", async () => {
        const reqs = [
          "GET /delay/30 HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
          "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
          "GET /delay/5 HTTP/1.1\r\nHost: a\r\n\r\n",
          "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
          "GET /user/9 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        ];
        const { text, closed } = await rawRequest(port, reqs.join(""));
        const rs = parseResponses(text);
        assert.deepEqual(rs.map((r) => r.body), ["slept 30", "Hello, World!", "hello", "slept 5", "abcde", "user 9"]);
        assert.equal(rs[5].headers["connection"], "close");
        assert.equal(closed, true);
      });

      it("parses requests split across many reads", async () => {
        const input = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
        const pieces = [];
        for (let i = 0; i < input.length; i += 7) pieces.push(input.slice(i, i + 7));
        const { text } = await rawRequest(port, "", { pieces, pieceDelayMs: 2, until: (t) => parseResponses(t).length === 1 });
        assert.equal(parseResponses(text)[0].body, "hello world");
      });

      it("streams a large chunked request body to the handler", async () => {
        const chunk = "y".repeat(1000);
        let input = "POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        for (let i = 0; i < 50; i++) input += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
        input += "0\r\n\r\n";
        const { text } = await rawRequest(port, input);
        assert.equal(parseResponses(text)[0].body, "50000");
      });

      it("gives arrayBuffer() and bytes() exactly the body, never the rest of the read", async () => {
        const { text } = await rawRequest(
          port,
          "POST /ab HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Secret: s3cr3t\r\n\r\nhello" +
            "POST /chunk-buffers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Secret: 2\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" +
            "GET /user/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        );
        const rs = parseResponses(text);
        assert.deepEqual(JSON.parse(rs[0].body), { len: 5, text: "hello", bytesLen: 5, bytesBuf: 5 });
        assert.deepEqual(JSON.parse(rs[1].body), { exact: true, text: "abcde" });
        assert.equal(rs[2].body, "user 1");
      });

      it("drains an unread body and serves the next request", async () => {
        const { text } = await rawRequest(port, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET /user/3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.deepEqual(parseResponses(text).map((r) => r.body), ["ignored", "user 3"]);
      });

      it("sends HEAD responses without a body", async () => {
        const { text } = await rawRequest(port, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /user/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
        const second = text.indexOf("HTTP/1.1 200", 5);
        assert.ok(second > 0);
        assert.ok(!text.slice(0, second).includes("Hello"), "HEAD response carried a body");
        assert.ok(text.endsWith("user 1"));
      });

      it("closes after a response whose handler set Connection: close", async () => {
        const { text, closed } = await rawRequest(port, "GET /bye HTTP/1.1\r\nHost: a\r\n\r\nGET /user/1 HTTP/1.1\r\nHost: a\r\n\r\n");
        const rs = parseResponses(text);
        assert.deepEqual(rs.map((r) => r.body), ["bye"]);
        assert.equal(rs[0].headers["connection"], "close");
        assert.equal(closed, true);
      });

      it("sends 204 without Content-Length or body", async () => {
        const { text } = await rawRequest(port, "GET /empty HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.match(text, /^HTTP\/1\.1 204 /);
        assert.doesNotMatch(text, /content-length/i);
        assert.ok(text.endsWith("\r\n\r\n"));
      });

      it("closes HTTP/1.0 connections unless keep-alive is asked", async () => {
        const a = await rawRequest(port, "GET / HTTP/1.0\r\n\r\n");
        assert.equal(a.closed, true);
        assert.equal(parseResponses(a.text)[0].body, "Hello, World!");
        const b = await rawRequest(port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { until: (t) => parseResponses(t).length === 1, timeoutMs: 500 });
        assert.equal(b.closed, false);
        assert.match(b.text, /connection: keep-alive/i);
      });

      it("streams to an HTTP/1.0 client without chunked coding, ending with the connection", async () => {
        const { text, closed } = await rawRequest(port, "GET /stream HTTP/1.0\r\n\r\n", { timeoutMs: 3000 });
        assert.equal(closed, true);
        assert.doesNotMatch(text, /transfer-encoding/i);
        assert.match(text, /connection: close\r\n/i);
        assert.ok(text.endsWith("\r\n\r\npart0;part1;part2;"), JSON.stringify(text));
      });

      it("answers Expect: 100-continue when the handler reads the body", async () => {
        const { text } = await rawRequest(port, "", {
          pieces: ["POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n", "ping"],
          pieceDelayMs: 50,
          until: (t) => t.includes("ping"),
        });
        assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
      });

      it("ignores empty lines before a request line", async () => {
        const { text } = await rawRequest(port, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.equal(parseResponses(text)[0].status, 200);
      });

      it("sends a large response completely", async () => {
        const r = await fetch(`${base}/big`);
        assert.equal((await r.text()).length, 1024 * 1024);
      });
    });

    describe("errors and limits", () => {
      const cases: [string, string, number][] = [
        ["request-target too long", `GET /${"a".repeat(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
        ["header section too large", `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(5000)}\r\n\r\n`, 431],
        ["too many header fields", `GET / HTTP/1.1\r\nHost: a\r\n${"X-A: 1\r\n".repeat(60)}\r\n`, 431],
        ["body too large (Content-Length)", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", 413],
        ["body too large (chunked)", `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${"8000\r\n" + "z".repeat(0x8000) + "\r\n"}${"8000\r\n" + "z".repeat(0x8000) + "\r\n"}1\r\nz\r\n0\r\n\r\n`, 413],
        ["unsupported HTTP version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
        ["malformed version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400],
        ["unsupported transfer coding", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
        ["CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501],
        ["Transfer-Encoding with Content-Length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
        ["final coding not chunked", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400],
        ["differing Content-Length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400],
        ["malformed Content-Length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400],
        ["whitespace before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", 400],
        ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", 400],
        ["bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400],
        ["bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n", 400],
        ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
        ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
        ["invalid field name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n", 400],
        ["bad chunk size", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
        ["unknown expectation", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx", 417],
      ];
      for (const [name, input, status] of cases) {
        it(`answers ${status} for ${name}, closes, and keeps serving others`, async () => {
          const { text, closed } = await rawRequest(port, input);
          const rs = parseResponses(text);
          assert.equal(rs.length, 1, `one response expected, got: ${JSON.stringify(text.slice(0, 200))}`);
          assert.equal(rs[0].status, status);
          assert.equal(rs[0].headers["connection"], "close");
          assert.ok(rs[0].headers["date"], "error responses carry Date");
          assert.equal(closed, true);
          const ok = await fetch(`${base}/`);
          assert.equal(await ok.text(), "Hello, World!");
        });
      }

      it("answers earlier pipelined requests before the error", async () => {
        const { text } = await rawRequest(port, "GET /delay/10 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/2.0\r\nHost: a\r\n\r\n");
        assert.deepEqual(parseResponses(text).map((r) => r.status), [200, 505]);
      });

      it("turns a throwing handler into a 500 and keeps the connection", async () => {
        const { text } = await rawRequest(port, "GET /throw HTTP/1.1\r\nHost: a\r\n\r\nGET /reject HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.deepEqual(parseResponses(text).map((r) => r.status), [500, 500, 200]);
      });
    });

    describe("disconnects", () => {
      it("aborts request.signal when the client goes away", async () => {
        events.length = 0;
        await rawRequest(port, "GET /wait-abort HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 100 });
        for (let i = 0; i < 50 && !events.includes("wait-aborted"); i++) await sleep(10);
        assert.ok(events.includes("wait-aborted"));
      });

      it("closes after answering when the client half-closes mid-body", async () => {
        const { text, closed } = await rawRequest(port, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe", { endAfterWrite: true, timeoutMs: 3000 });
        assert.equal(closed, true);
        assert.ok(parseResponses(text).length <= 1);
      });

      it("answers 400, not 500, when the client half-closes before the body it announced", async () => {
        for (const input of [
          "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
          "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ]) {
          const { text, closed } = await rawRequest(port, input, { endAfterWrite: true, timeoutMs: 3000 });
          const rs = parseResponses(text);
          assert.equal(rs.length, 1, JSON.stringify(text));
          assert.equal(rs[0].status, 400);
          assert.match(rs[0].body, /ended before/);
          assert.equal(closed, true);
        }
      });

      it("cancels a streaming response when the client goes away", async () => {
        events.length = 0;
        const { text } = await rawRequest(port, "GET /forever HTTP/1.1\r\nHost: a\r\n\r\n", { until: (t) => t.includes("chunk 2") });
        assert.match(text, /transfer-encoding: chunked/i);
        for (let i = 0; i < 50 && !events.includes("stream-cancelled"); i++) await sleep(10);
        assert.ok(events.includes("stream-cancelled"));
        assert.ok(events.includes("signal-aborted"));
      });
    });
  });

  describe(`anyserve on ${runtime}: timeouts and shutdown`, () => {
    it("answers 408 to a client that sends its head too slowly", async () => {
      const server = serve({ fetch: () => new Response("ok"), port: 0, hostname: "127.0.0.1", headersTimeoutMs: 200 });
      await server.ready;
      try {
        const { text, closed } = await rawRequest(server.port, "", { pieces: ["GET / HTTP/1.1\r\n", "Host: a\r\n"], pieceDelayMs: 50, timeoutMs: 4000 });
        assert.match(text, /^HTTP\/1\.1 408 /);
        assert.equal(closed, true);
      } finally {
        await server.close({ deadlineMs: 500 });
      }
    });

    it("close() stops accepting, finishes in-flight requests with Connection: close", async () => {
      const server = serve({
        fetch: async (req) => {
          const ms = Number(new URL(req.url).searchParams.get("ms") ?? 0);
          await sleep(ms);
          return new Response(`done ${ms}`);
        },
        port: 0,
        hostname: "127.0.0.1",
      });
      await server.ready;
      const p = server.port;
      const inflight = rawRequest(p, "GET /?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 3000 });
      // An idle keep-alive connection: closed at once by shutdown.
      const idle = rawRequest(p, "GET /?ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 3000 });
      await sleep(50);
      const closing = server.close({ deadlineMs: 2000 });
      await sleep(20);
      const refused = await rawRequest(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 500 }).catch((e) => ({ text: "", closed: true, error: e }));
      assert.equal(refused.text, "");
      const a = await inflight;
      const rs = parseResponses(a.text);
      assert.equal(rs[0].body, "done 200");
      assert.equal(rs[0].headers["connection"], "close");
      assert.equal(a.closed, true);
      const b = await idle;
      assert.equal(parseResponses(b.text)[0].body, "done 0");
      assert.equal(b.closed, true);
      const summary = await closing;
      assert.equal(summary.cut, 0);
      await server.finished;
    });

    it("close() answers every pipelined request already received, the last with Connection: close", async () => {
      const server = serve({
        fetch: async (req) => {
          const ms = Number(new URL(req.url).searchParams.get("ms") ?? 0);
          await sleep(ms);
          return new Response(`done ${ms}`);
        },
        port: 0,
        hostname: "127.0.0.1",
      });
      await server.ready;
      const pipelined = rawRequest(server.port, "GET /?ms=300 HTTP/1.1\r\nHost: a\r\n\r\nGET /?ms=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /?ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 3000 });
      await sleep(100);
      const summary = await server.close({ deadlineMs: 2000 });
      const r = await pipelined;
      const rs = parseResponses(r.text);
      assert.deepEqual(rs.map((x) => x.body), ["done 300", "done 1", "done 0"]);
      assert.equal(rs[0].headers["connection"], undefined);
      assert.equal(rs[2].headers["connection"], "close");
      assert.equal(r.closed, true);
      assert.equal(summary.cut, 0);
    });

    it("close() answers a request written on an idle keep-alive connection during the grace, with Connection: close", async () => {
      const server = serve({ fetch: (req) => new Response(`done ${new URL(req.url).pathname}`), port: 0, hostname: "127.0.0.1", shutdownGraceMs: 400 });
      await server.ready;
      // The second request goes out on the idle connection just after
      // shutdown began, as a proxy's request on a pooled connection does.
      const r = rawRequest(server.port, "", {
        pieces: ["GET /one HTTP/1.1\r\nHost: a\r\n\r\n", "GET /two HTTP/1.1\r\nHost: a\r\n\r\n"],
        pieceDelayMs: 150,
        timeoutMs: 3000,
      });
      await sleep(100);
      const summary = server.close({ deadlineMs: 2000 });
      const { text, closed } = await r;
      const rs = parseResponses(text);
      assert.deepEqual(rs.map((x) => x.body), ["done /one", "done /two"]);
      assert.equal(rs[0].headers["connection"], undefined);
      assert.equal(rs[1].headers["connection"], "close");
      assert.equal(closed, true);
      assert.equal((await summary).cut, 0);
    });

    it("close() waits for a request head that has partly arrived, and answers it", async () => {
      const server = serve({ fetch: () => new Response("whole"), port: 0, hostname: "127.0.0.1", shutdownGraceMs: 50 });
      await server.ready;
      const r = rawRequest(server.port, "", { pieces: ["GET / HTTP/1.1\r\nHo", "st: a\r\n\r\n"], pieceDelayMs: 300, timeoutMs: 3000 });
      await sleep(100);
      const summary = server.close({ deadlineMs: 2000 });
      const { text, closed } = await r;
      const rs = parseResponses(text);
      assert.equal(rs.length, 1);
      assert.equal(rs[0].body, "whole");
      assert.equal(rs[0].headers["connection"], "close");
      assert.equal(closed, true);
      assert.equal((await summary).cut, 0);
    });

    it("close() ends an idle connection that stays silent through the grace", async () => {
      const server = serve({ fetch: () => new Response("ok"), port: 0, hostname: "127.0.0.1", shutdownGraceMs: 100 });
      await server.ready;
      const r = rawRequest(server.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 3000 });
      await sleep(50);
      const summary = await server.close({ deadlineMs: 2000 });
      const { text, closed } = await r;
      assert.equal(parseResponses(text)[0].body, "ok");
      assert.equal(closed, true);
      assert.equal(summary.cut, 0);
    });

    it("says its idle timeout on keep-alive responses: Keep-Alive: timeout=N, N in whole seconds rounded down", async () => {
      const server = serve({ fetch: () => new Response("ok", { headers: { "keep-alive": "timeout=99" } }), port: 0, hostname: "127.0.0.1", keepAliveTimeoutMs: 2500 });
      await server.ready;
      try {
        const { text } = await rawRequest(server.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        const rs = parseResponses(text);
        assert.equal(rs.length, 3);
        assert.equal(rs[0].headers["keep-alive"], "timeout=2");
        assert.equal(rs[1].headers["keep-alive"], "timeout=2");
        assert.equal(rs[1].headers["connection"], "keep-alive");
        assert.equal(rs[2].headers["keep-alive"], undefined);
        assert.equal(rs[2].headers["connection"], "close");
      } finally {
        await server.close({ deadlineMs: 200 });
      }
    });

    it("closes a connection once the client has read a large response sent with Connection: close", async () => {
      // 64 KiB fills the socket's buffer: reading had paused for the write.
      const server = serve({ fetch: () => new Response(new Uint8Array(256 * 1024)), port: 0, hostname: "127.0.0.1" });
      await server.ready;
      const { text, closed } = await rawRequest(server.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", { timeoutMs: 3000 });
      assert.equal(closed, true);
      assert.equal(parseResponses(text)[0].body.length, 256 * 1024);
      // The server must see the client's FIN and close its side, not wait
      // for the linger to run out (5 s) with nothing left to do.
      let active = server.stats().connections.active;
      for (let i = 0; i < 100 && active > 0; i++) {
        await sleep(20);
        active = server.stats().connections.active;
      }
      assert.equal(active, 0, "the connection is still open after the client closed it");
      await server.close({ deadlineMs: 200 });
    });

    it("answers 500 when a handler returns something that is not a Response, and goes on", async () => {
      const server = serve({
        fetch: (req) => (new URL(req.url).pathname === "/bad" ? (undefined as unknown as Response) : new Response("ok")),
        port: 0,
        hostname: "127.0.0.1",
        onError: () => new Response("handler broke", { status: 500 }),
      });
      await server.ready;
      try {
        const { text } = await rawRequest(server.port, "GET /bad HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert.deepEqual(parseResponses(text).map((r) => [r.status, r.body]), [[500, "handler broke"], [200, "ok"]]);
      } finally {
        await server.close({ deadlineMs: 200 });
      }
    });

    it("close() cuts what is still running at the deadline", async () => {
      const server = serve({ fetch: () => new Promise<Response>(() => {}), port: 0, hostname: "127.0.0.1" });
      await server.ready;
      const hung = rawRequest(server.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 3000 });
      await sleep(50);
      const summary = await server.close({ deadlineMs: 100 });
      assert.equal(summary.cut, 1);
      assert.equal((await hung).closed, true);
    });
  });
}
