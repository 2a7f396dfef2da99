/**
 * Differential suite: the same Hono app (./app.ts) on anyserve and on the
 * running runtime's own server (`@hono/node-server` on Node, `Deno.serve`,
 * `Bun.serve`), the same requests to both, through `fetch` and through raw
 * sockets (one request per connection, and several on one connection,
 * pipelined or one after another). Status, headers and bodies must match,
 * except for the differences in {@linkcode DOCUMENTED} (header rules, `Date`
 * first) and {@linkcode DOCUMENTED_CASES} (cases with their own assertions).
 *
 * Cases that differ today are in {@linkcode KNOWN_DIFFERENCES}: they run as
 * node:test `todo` (reported, not failing; Deno and Bun list them without
 * running them). Delete an entry once its fix lands. Run with
 * `ANYSERVE_DIFF_STRICT=1` to run every case as a plain test (to see every
 * difference on every runtime, or to check that a todo is stale), and with
 * `ANYSERVE_DIFF_REPORT=FILE` to have each difference appended to FILE as JSON.
 *
 * On Node the native server runs in a child process (./native_node.ts):
 * `@hono/node-server` replaces the global `Request`/`Response` by default,
 * which would change what anyserve is measured with in a shared process.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync, inflateSync } from "node:zlib";
import { sign } from "hono/jwt";
import { serve, type Server } from "../../mod.ts";
import { BASIC_PASSWORD, BASIC_USER, BEARER_TOKEN, BIG, JWT_SECRET, LIMIT, makeApp } from "./app.ts";
import { startOrigin, type Origin } from "./origin.ts";
import { exchange, type Framing, type Req, type WireResponse, type WireResult } from "./wire.ts";

type Runtime = "node" | "deno" | "bun";
const g = globalThis as Record<string, unknown>;
const RUNTIME: Runtime = "Bun" in g ? "bun" : "Deno" in g ? "deno" : "node";
const NATIVE_NAME = { node: "@hono/node-server", deno: "Deno.serve", bun: "Bun.serve" }[RUNTIME];
const STRICT = process.env.ANYSERVE_DIFF_STRICT === "1";

type Via = "fetch" | "raw" | "pipelined" | "sequential";

// ---------------------------------------------------------------------------
// Documented differences: the ones the suite accepts, each with its reason.
// Header rules are applied to both responses before comparing; a case rule
// replaces the comparison of one case with its own assertions.
// ---------------------------------------------------------------------------

/** Header fields by lowercased name, values in the order sent. */
type Fields = Map<string, string[]>;

/** What a rule knows about the pair of responses it looks at. */
interface PairCtx {
  case: string;
  via: Via;
  method: string;
  /** The app streams this body. */
  stream: boolean;
  /** The request carried `Connection: close` (raw, last of its connection). */
  requestClose: boolean;
  /** The app answers without reading the request body to its end. */
  bodyUnread?: boolean;
  /** Set by a rule that accepts the two framings as they are. */
  skipFraming?: boolean;
}

interface HeaderRule {
  rule: string;
  runtimes: readonly Runtime[];
  reason: string;
  /** Deletes from `a` (anyserve) and `n` (native) what the difference covers. */
  apply(a: Fields, n: Fields, ctx: PairCtx): void;
}

const ALL: readonly Runtime[] = ["node", "deno", "bun"];
const one = (f: Fields, name: string) => (f.get(name)?.length === 1 ? f.get(name)![0] : undefined);
const NODE_SERVER_DEFAULT_TYPE = "text/plain; charset=UTF-8";

/** Every header difference the suite accepts. Header order is compared as a sorted list by name (field order across names carries no meaning, RFC 9110 §5.3); values of one name keep their order. The reason phrase is not compared (RFC 9112 §4: clients ignore it). */
export const DOCUMENTED: HeaderRule[] = [
  {
    rule: "Date",
    runtimes: ALL,
    reason: "the clock: the two responses need not be made in the same second",
    apply: (a, n) => void (a.delete("date"), n.delete("date")),
  },
  {
    rule: "Keep-Alive",
    runtimes: ALL,
    reason: "anyserve says its idle timeout on every keep-alive response (`Keep-Alive: timeout=5`, so a client that honours it never reuses a connection about to close); Deno.serve and Bun.serve say nothing, and Node's http says it too except when the app set its own `Connection` (Hono's streamSSE does). Compared on Node where Node's http sends it",
    apply: (a, n) => {
      if (RUNTIME === "node" && n.has("keep-alive")) return;
      a.delete("keep-alive");
      n.delete("keep-alive");
    },
  },
  {
    rule: "Connection: keep-alive",
    runtimes: ALL,
    reason: "persistence is HTTP/1.1's default (RFC 9112 §9.3): Node's http states it, the others leave it implied, and Deno.serve sends an app's `keep-alive` (Hono's streamSSE sets it) next to its own `close`; `close` is compared",
    apply: (a, n) => {
      for (const f of [a, n]) {
        const v = f.get("connection")?.filter((x) => x.toLowerCase() !== "keep-alive");
        if (v?.length) f.set("connection", v);
        else f.delete("connection");
      }
    },
  },
  {
    rule: "Connection: close answering a request's Connection: close",
    runtimes: ["bun"],
    reason: "Bun.serve closes after the response without saying so; anyserve says `Connection: close` (RFC 9112 §9.6: SHOULD). Whether each closed is compared",
    apply: (a, n, c) => {
      if (c.requestClose && one(a, "connection") === "close" && !n.has("connection")) a.delete("connection");
    },
  },
  {
    rule: "Connection: close after a request body the app left unread",
    runtimes: ALL,
    reason: "when the app answers (bodyLimit's 413) before the rest of the request body has arrived, anyserve closes the connection rather than wait to drain it; the native servers drain and keep it. Timing decides which (Bun: about 1 in 10 runs), so it is not compared",
    apply: (a, n, c) => {
      if (c.bodyUnread && one(a, "connection") === "close" && !n.has("connection")) a.delete("connection");
    },
  },
  {
    rule: "Content-Length / Transfer-Encoding of a streamed body",
    runtimes: ALL,
    reason: "the framing of a body the app streams is each server's choice (anyserve sends a stream that ended before the head went out with Content-Length); the decoded body is compared",
    apply: (a, n, c) => {
      if (!c.stream) return;
      for (const f of [a, n]) f.delete("content-length"), f.delete("transfer-encoding");
      c.skipFraming = true;
    },
  },
  {
    rule: "Content-Length where the native server chunks",
    runtimes: ALL,
    reason: "Hono wraps a finished response's body in a stream when middleware touches it (`c.res = …`), and the native servers chunk it (Node's also chunks a null body: `writeHead()` then `end()`); anyserve has the whole body before the head goes out and sends its length. Same bytes; the decoded body is compared",
    apply: (a, n, c) => {
      if (a.has("content-length") && !a.has("transfer-encoding") && one(n, "transfer-encoding") === "chunked" && !n.has("content-length")) {
        a.delete("content-length");
        n.delete("transfer-encoding");
        c.skipFraming = true;
      }
    },
  },
  {
    rule: "Content-Length: 0 on HEAD of a null body",
    runtimes: ["deno", "bun"],
    reason: "Hono answers HEAD with `new Response(null, getResponse)`; Deno.serve and Bun.serve send `Content-Length: 0`, the length of that null body and not of the GET's. anyserve sends no length rather than a wrong one (RFC 9110 §9.3.2 lets a server omit it on HEAD); a length the handler set itself is compared",
    apply: (a, n, c) => {
      if (c.method === "HEAD" && one(n, "content-length") === "0" && !a.has("content-length")) n.delete("content-length");
    },
  },
  {
    rule: "node-server's implied Content-Type spelling",
    runtimes: ["node"],
    reason: "`new Response(string)` with no type: @hono/node-server's own Response class (which it installs as the global) says `text/plain; charset=UTF-8`, Node's Response (what anyserve's handler uses) `text/plain;charset=UTF-8`: the same media type (RFC 9110 §5.6.6, §8.3.1)",
    apply: (a, n) => {
      if (one(n, "content-type") === NODE_SERVER_DEFAULT_TYPE && one(a, "content-type") === "text/plain;charset=UTF-8") {
        a.delete("content-type");
        n.delete("content-type");
      }
    },
  },
  {
    rule: "node-server's default Content-Type on a typeless stream or a Blob",
    runtimes: ["node"],
    reason: "@hono/node-server labels every body without a type `text/plain; charset=UTF-8` (a ReadableStream, and a Blob, whose own type it drops); Deno.serve and Bun.serve send none for a stream, and anyserve sends none for a stream and the Blob's type for a Blob",
    apply: (a, n, c) => {
      if (one(n, "content-type") !== NODE_SERVER_DEFAULT_TYPE) return;
      if ((c.stream && !a.has("content-type")) || (c.case === "Blob body (implied type)" && one(a, "content-type") === "application/x-blob")) {
        a.delete("content-type");
        n.delete("content-type");
      }
    },
  },
];

interface DocumentedCase {
  reason: string;
  /** For a single case. */
  check?(a: Observed, n: Observed): void;
  /** For a group of requests on one connection. */
  checkGroup?(a: WireResult, n: WireResult): void;
}

/** Cases whose outcome differs by design on a runtime: their own assertions replace the comparison. Keyed by test name or case name. */
export const DOCUMENTED_CASES: Record<Runtime, Record<string, DocumentedCase>> = {
  node: {
    "streamSSE() [raw]": {
      reason: "Hono's streamSSE sets `Connection: keep-alive` on its response; to a request with `Connection: close`, Node's http sends the app's value and keeps the connection open (against RFC 9112 §9.6); anyserve sends `Connection: close` and closes",
      check(a) {
        assert.equal(one(fields(a), "connection"), "close");
        assert.equal(a.closed, true);
      },
    },
  },
  deno: {
    "dot segments": {
      reason: "Deno.serve hands the app the request target's dot segments unresolved (`/u/../json` routes as `/u/../json`); anyserve resolves them as the WHATWG URL parser does (RFC 3986 §5.2.4), as Node and Bun do",
      check(a, n) {
        assert.equal(a.status, 200);
        assert.equal(n.status, 404);
      },
    },
    "unicode path as raw UTF-8 bytes": {
      reason: "a request-target is ASCII (RFC 9112 §3.2, RFC 3986 §2): anyserve answers raw UTF-8 bytes in it with 400, as Node's http does; Deno.serve percent-encodes them and routes",
      check(a, n) {
        assert.equal(a.status, 400);
        assert.equal(n.status, 200);
      },
    },
  },
  bun: {
    "streams [pipelined]": {
      reason: "Bun.serve (1.4.5) cuts a streamed response after its first chunk and closes the connection when the next request is already pipelined behind it, so the later requests get no answer; anyserve answers each in order",
      checkGroup(a, n) {
        assert.equal(a.responses.length, GROUPS.find((g) => g.name === "streams")!.reqs.length);
        assert.ok(a.responses.every((r) => r.complete && r.status === 200));
        assert.ok(n.responses.length < a.responses.length);
      },
    },
    "unicode path as raw UTF-8 bytes": {
      reason: "a request-target is ASCII (RFC 9112 §3.2, RFC 3986 §2): anyserve answers raw UTF-8 bytes in it with 400, as Node's http does; Bun.serve percent-encodes them and routes",
      check(a, n) {
        assert.equal(a.status, 400);
        assert.equal(n.status, 200);
      },
    },
  },
};

// ---------------------------------------------------------------------------
// Known differences today: these cases run as `todo` until fixed (delete the
// entry with the fix). Keyed by test name ("case [via]") or case name (all vias).
// ---------------------------------------------------------------------------

const REBUILD_NODE = "issue 9.1: `new Request(c.req.raw, init)` throws `TypeError: Cannot read private member #state` (500)";
const REBUILD_DENO = "issue 9.1: `new Request(c.req.raw, init)` throws `Failed to construct 'Request': Argument 1 is not of type Request` (500)";
const BUN_OCTET = "a Response whose body is another Response's (Hono's `HTTPException` with `res`, as basicAuth, bearerAuth, jwt and bodyLimit throw): Bun.serve sends `application/octet-stream`; anyserve sends `text/plain;charset=utf-8`, the type Bun's Response reports for it (`(await res.blob()).type`), since Bun shows no difference between that body, bytes and a string (adapters/bun/implied_type.ts)";

export const KNOWN_DIFFERENCES: Record<Runtime, Record<string, string>> = {
  node: {
    "Blob body (implied type)": "a Blob body goes out chunked; @hono/node-server sends `Content-Length: 9`",
    "bodyLimit chunked within": REBUILD_NODE,
    "bodyLimit chunked urlencoded then parseBody": REBUILD_NODE,
    "methodOverride header: PATCH": REBUILD_NODE,
    "new Request(c.req.raw, { headers }) on POST": REBUILD_NODE,
    "new Request(c.req.raw, { headers }) on GET": REBUILD_NODE,
    "new Request(c.req.raw, { method })": REBUILD_NODE,
    "chunked bodyLimit and rebuild": REBUILD_NODE,
  },
  deno: {
    "bodyLimit chunked within": REBUILD_DENO,
    "bodyLimit chunked urlencoded then parseBody": REBUILD_DENO,
    "methodOverride header: PATCH": REBUILD_DENO,
    "new Request(c.req.raw, { headers }) on POST": REBUILD_DENO,
    "new Request(c.req.raw, { headers }) on GET": REBUILD_DENO,
    "new Request(c.req.raw, { method })": REBUILD_DENO,
    "chunked bodyLimit and rebuild": REBUILD_DENO,
  },
  bun: {
    "HTTPException with its own Response": BUN_OCTET,
    "basicAuth missing": BUN_OCTET,
    "basicAuth wrong": BUN_OCTET,
    "bearerAuth missing": BUN_OCTET,
    "bearerAuth malformed": BUN_OCTET,
    "bearerAuth wrong": BUN_OCTET,
    "jwt missing": BUN_OCTET,
    "jwt bad signature": BUN_OCTET,
    "bodyLimit default onError, over": BUN_OCTET,
    "new Request(c.req.raw, { headers }) on POST": "issue 9.1: the rebuilt request's method is GET (Bun.serve: POST)",
    "chunked bodyLimit and rebuild": "issue 9.1: the rebuilt request's method is GET",
  },
};

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

/** Values the cases need that only exist once the servers run. */
interface Ctx {
  jwt: string;
  badJwt: string;
  etagDoc: string;
  signedCookie: string;
}

interface Case {
  name: string;
  req: Req | ((ctx: Ctx) => Req);
  /** Default: fetch and raw. */
  via?: ("fetch" | "raw")[];
  /** The app streams this body (see DOCUMENTED). */
  stream?: boolean;
  /** What the native server must answer: proves the case exercises what it says. */
  expect?: number;
  /** The server answers this itself (a malformed request): only status and close are compared, the body is each server's own. */
  serverMade?: boolean;
  /** The app answers without reading the request body to its end (see DOCUMENTED). */
  bodyUnread?: boolean;
}

/** A request of a group; `stream`: its body is streamed by the app; `bodyUnread`: as in {@linkcode Case}. */
type GroupReq = Req & { stream?: boolean; bodyUnread?: boolean };

interface Group {
  name: string;
  reqs: GroupReq[];
}

const H = (o: Record<string, string>): [string, string][] => Object.entries(o);
const TEXT_PLAIN = H({ "content-type": "text/plain; charset=utf-8" });
const URLENC = "application/x-www-form-urlencoded";
const BOUNDARY = "----differentialBoundary7MA4YWxkTrZu0gW";
const multipart = (parts: { name: string; value: string; file?: string; type?: string }[]) =>
  parts.map((p) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.file ? `; filename="${p.file}"` : ""}\r\n` +
    (p.type ? `Content-Type: ${p.type}\r\n` : "") + `\r\n${p.value}\r\n`
  ).join("") + `--${BOUNDARY}--\r\n`;
const MULTIPART = H({ "content-type": `multipart/form-data; boundary=${BOUNDARY}` });
const basic = (u: string, p: string) => "Basic " + Buffer.from(`${u}:${p}`, "utf8").toString("base64");
const CORS_PREFLIGHT = H({
  origin: "https://app.example",
  "access-control-request-method": "PUT",
  "access-control-request-headers": "x-custom, content-type",
});

const CASES: Case[] = [
  // Plain responses and content types.
  { name: "c.text() fast path (Content-Type)", req: { path: "/text" }, expect: 200 },
  { name: "c.text() with a status", req: { path: "/text-status" }, expect: 201 },
  { name: "c.json()", req: { path: "/json" } },
  { name: "c.html()", req: { path: "/html" } },
  { name: "Blob body (implied type)", req: { path: "/blob" } },
  { name: "URLSearchParams body (implied type)", req: { path: "/search-params" } },
  { name: "204 No Content", req: { path: "/empty" }, expect: 204 },
  { name: "304 from a handler", req: { path: "/not-modified" }, expect: 304 },
  { name: "200 with no body", req: { path: "/empty-200" } },
  { name: "1 MiB body", req: { path: "/big" } },
  { name: "handler Content-Length on GET", req: { path: "/sized" } },
  { name: "HEAD: handler Content-Length", req: { method: "HEAD", path: "/sized" } },
  { name: "HEAD of c.text()", req: { method: "HEAD", path: "/text" } },
  { name: "HEAD of c.json()", req: { method: "HEAD", path: "/json" } },
  { name: "HEAD of 1 MiB", req: { method: "HEAD", path: "/big" } },
  { name: "HEAD of a stream", req: { method: "HEAD", path: "/stream" }, stream: true },
  { name: "418 from c.text()", req: { path: "/custom-status" }, expect: 418 },
  { name: "repeated response headers", req: { path: "/multi-header" } },
  { name: "notFound handler", req: { path: "/no/such/route" }, expect: 404 },
  { name: "method without a route", req: { method: "DELETE", path: "/text" }, expect: 404 },

  // Redirects (fetch with redirect: "manual").
  { name: "redirect 302", req: { path: "/redirect" }, expect: 302 },
  { name: "redirect 301", req: { path: "/redirect-301" }, expect: 301 },
  { name: "redirect 308 absolute", req: { path: "/redirect-abs" }, expect: 308 },
  { name: "redirect 303 after POST", req: { method: "POST", path: "/redirect-303", body: "x=1", headers: H({ "content-type": URLENC }) }, expect: 303 },

  // Queries and paths.
  { name: "repeated and percent-encoded query keys", req: { path: "/query?a=1&a=2&b=%20x%2By&%E2%9C%93=ok&c&d=&e=a%26b&a=3&f=caf%C3%A9" } },
  { name: "unicode param (percent-encoded)", req: { path: "/u/caf%C3%A9%20%E2%9C%93" } },
  { name: "unicode static path (percent-encoded)", req: { path: "/%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9" }, expect: 200 },
  { name: "encoded slash in a param", req: { path: "/u/a%2Fb" } },
  { name: "regexp rest param", req: { path: "/files/a/b/c.txt" } },
  { name: "dot segments", req: { path: "/u/../json" }, via: ["raw"] },
  { name: "unicode path as raw UTF-8 bytes", req: { path: "/ünï/çødé" }, via: ["raw"], serverMade: true },

  // onError and HTTPException.
  { name: "HTTPException 418", req: { path: "/http-exception" }, expect: 418 },
  { name: "HTTPException with its own Response", req: { path: "/http-exception-res" }, expect: 401 },
  { name: "onError for a thrown Error", req: { path: "/throw" }, expect: 500 },
  { name: "onError for a rejected handler", req: { path: "/throw-async" }, expect: 500 },

  // CORS.
  { name: "cors preflight", req: { method: "OPTIONS", path: "/cors/data", headers: CORS_PREFLIGHT }, expect: 204 },
  { name: "cors preflight, origin not allowed", req: { method: "OPTIONS", path: "/cors/data", headers: H({ ...Object.fromEntries(CORS_PREFLIGHT), origin: "https://evil.example" }) } },
  { name: "cors simple GET", req: { path: "/cors/data", headers: H({ origin: "https://other.example" }) }, expect: 200 },
  { name: "cors PUT with JSON", req: { method: "PUT", path: "/cors/data", headers: H({ origin: "https://app.example", "content-type": "application/json" }), body: '{"v":[1,2]}' }, expect: 200 },

  // ETag.
  { name: "etag on a JSON body", req: { path: "/etag/doc" }, expect: 200 },
  { name: "etag If-None-Match matches: 304", req: (c) => ({ path: "/etag/doc", headers: H({ "if-none-match": c.etagDoc }) }), expect: 304 },
  { name: "etag If-None-Match list with a match: 304", req: (c) => ({ path: "/etag/doc", headers: H({ "if-none-match": `"other", ${c.etagDoc}` }) }), expect: 304 },
  { name: "etag If-None-Match does not match", req: { path: "/etag/doc", headers: H({ "if-none-match": '"nope"' }) }, expect: 200 },
  { name: "etag on c.text()", req: { path: "/etag/text" } },

  // Compression (fetch decompresses; raw sees the compressed bytes).
  { name: "compress gzip text", req: { path: "/compress/text", headers: H({ "accept-encoding": "gzip" }) }, stream: true },
  { name: "compress deflate JSON", req: { path: "/compress/json", headers: H({ "accept-encoding": "deflate" }) }, stream: true },
  { name: "compress, identity only", req: { path: "/compress/text", headers: H({ "accept-encoding": "identity" }) } },
  { name: "compress, under the threshold", req: { path: "/compress/small", headers: H({ "accept-encoding": "gzip" }) } },
  { name: "compress a stream", req: { path: "/compress/stream", headers: H({ "accept-encoding": "gzip" }) }, stream: true },
  { name: "compress HEAD", req: { method: "HEAD", path: "/compress/text", headers: H({ "accept-encoding": "gzip" }) } },

  // Security headers and auth.
  { name: "secureHeaders", req: { path: "/secure/page" } },
  { name: "basicAuth missing", req: { path: "/basic/page" }, expect: 401 },
  { name: "basicAuth wrong", req: { path: "/basic/page", headers: H({ authorization: basic(BASIC_USER, "nope") }) }, expect: 401 },
  { name: "basicAuth right", req: { path: "/basic/page", headers: H({ authorization: basic(BASIC_USER, BASIC_PASSWORD) }) }, expect: 200 },
  { name: "bearerAuth missing", req: { path: "/bearer/page" }, expect: 401 },
  { name: "bearerAuth malformed", req: { path: "/bearer/page", headers: H({ authorization: "Bearer" }) } },
  { name: "bearerAuth wrong", req: { path: "/bearer/page", headers: H({ authorization: "Bearer nope" }) } },
  { name: "bearerAuth right", req: { path: "/bearer/page", headers: H({ authorization: `Bearer ${BEARER_TOKEN}` }) }, expect: 200 },
  { name: "jwt missing", req: { path: "/jwt/me" }, expect: 401 },
  { name: "jwt valid", req: (c) => ({ path: "/jwt/me", headers: H({ authorization: `Bearer ${c.jwt}` }) }), expect: 200 },
  { name: "jwt bad signature", req: (c) => ({ path: "/jwt/me", headers: H({ authorization: `Bearer ${c.badJwt}` }) }), expect: 401 },

  // bodyLimit: Content-Length is checked from the header, a chunked body is read and the request rebuilt.
  { name: "bodyLimit Content-Length within", req: { method: "POST", path: "/limit/custom", body: "small body", headers: TEXT_PLAIN }, expect: 200 },
  { name: "bodyLimit Content-Length over", req: { method: "POST", path: "/limit/custom", body: "x".repeat(LIMIT + 1), headers: TEXT_PLAIN }, expect: 413, bodyUnread: true },
  { name: "bodyLimit chunked within", req: { method: "POST", path: "/limit/custom", chunks: ["small ", "chunked ", "body"], headers: TEXT_PLAIN }, expect: 200 },
  { name: "bodyLimit chunked over", req: { method: "POST", path: "/limit/custom", chunks: ["x".repeat(40), "y".repeat(40)], headers: TEXT_PLAIN }, expect: 413, bodyUnread: true },
  { name: "bodyLimit default onError, over", req: { method: "POST", path: "/limit/default", body: "a=" + "x".repeat(LIMIT), headers: H({ "content-type": URLENC }) }, expect: 413, bodyUnread: true },
  { name: "bodyLimit chunked urlencoded then parseBody", req: { method: "POST", path: "/limit/default", chunks: ["a=1&b", "=2&a=3"], headers: H({ "content-type": URLENC }) }, expect: 200 },

  // methodOverride.
  { name: "methodOverride form: DELETE", req: { method: "POST", path: "/mo-form/item", body: "_method=DELETE&x=1", headers: H({ "content-type": URLENC }) }, expect: 200 },
  { name: "methodOverride form: PUT multipart", req: { method: "POST", path: "/mo-form/item", body: multipart([{ name: "_method", value: "PUT" }, { name: "x", value: "1" }]), headers: MULTIPART }, expect: 200 },
  { name: "methodOverride form: no _method", req: { method: "POST", path: "/mo-form/item", body: "x=1", headers: H({ "content-type": URLENC }) }, expect: 200 },
  { name: "methodOverride header: PATCH", req: { method: "POST", path: "/mo-header/item", body: "header body", headers: H({ "x-http-method-override": "PATCH", ...Object.fromEntries(TEXT_PLAIN) }) }, expect: 200 },
  { name: "methodOverride query: DELETE", req: { method: "POST", path: "/mo-query/item?_method=DELETE", body: "query body", headers: TEXT_PLAIN }, expect: 200 },

  // Cookies.
  { name: "several Set-Cookie fields", req: { path: "/cookies/set" } },
  { name: "cookies read, signed cookie verified", req: (c) => ({ path: "/cookies/get", headers: H({ cookie: `a=1; b=two%20words%3B%C3%BC; ${c.signedCookie}` }) }) },

  // Bodies.
  { name: "parseBody urlencoded, repeated keys", req: { method: "POST", path: "/form", body: "a=1&a=2&b=%C3%BC+x&c=&d%5B%5D=z", headers: H({ "content-type": URLENC }) }, expect: 200 },
  {
    name: "parseBody multipart with files",
    req: {
      method: "POST",
      path: "/form",
      headers: MULTIPART,
      body: multipart([
        { name: "title", value: "hello ü" },
        { name: "tag", value: "one" },
        { name: "tag", value: "two" },
        { name: "doc", value: "file contents\r\nline 2", file: "notes ü.txt", type: "text/plain" },
        { name: "bin", value: "\u0001\u0002binary", file: "b.bin", type: "application/octet-stream" },
      ]),
    },
    expect: 200,
  },
  { name: "parseBody multipart, chunked", req: { method: "POST", path: "/form", headers: MULTIPART, chunks: [multipart([{ name: "k", value: "v" }, { name: "f", value: "data", file: "f.txt", type: "text/plain" }]).slice(0, 50), multipart([{ name: "k", value: "v" }, { name: "f", value: "data", file: "f.txt", type: "text/plain" }]).slice(50)] }, expect: 200 },
  { name: "POST text with Content-Length", req: { method: "POST", path: "/echo", body: "plain body ü", headers: TEXT_PLAIN } },
  { name: "POST chunked", req: { method: "POST", path: "/echo", chunks: ["one ", "two ", "three"], headers: TEXT_PLAIN } },
  { name: "POST with no body", req: { method: "POST", path: "/echo" } },
  { name: "POST JSON", req: { method: "POST", path: "/json-in", body: '{"a":[1,"ü"]}', headers: H({ "content-type": "application/json" }) } },
  { name: "1 MiB upload, Content-Length", req: { method: "POST", path: "/upload-size", body: BIG, headers: H({ "content-type": "application/octet-stream" }) } },
  { name: "1 MiB upload, chunked", req: { method: "POST", path: "/upload-size", chunks: Array.from({ length: 16 }, (_, i) => BIG.subarray(i << 16, (i + 1) << 16)) } },

  // Streams.
  { name: "stream()", req: { path: "/stream" }, stream: true },
  { name: "streamText()", req: { path: "/stream-text" }, stream: true },
  { name: "streamSSE()", req: { path: "/sse" }, stream: true },
  { name: "stream() with onError", req: { path: "/stream-onerror" }, stream: true },
  { name: "body stream that errors midway", req: { path: "/stream-error" }, stream: true },

  // Rebuilding and forwarding the request.
  { name: "new Request(c.req.raw, { headers }) on POST", req: { method: "POST", path: "/rebuild", body: "rebuild body", headers: TEXT_PLAIN }, expect: 200 },
  { name: "new Request(c.req.raw, { headers }) on GET", req: { path: "/rebuild-get" }, expect: 200 },
  { name: "new Request(c.req.raw, { method })", req: { method: "POST", path: "/rebuild-method", body: "to put", headers: TEXT_PLAIN }, expect: 200 },
  { name: "c.req.raw.clone()", req: { method: "POST", path: "/clone", body: "cloned body", headers: TEXT_PLAIN }, expect: 200 },
  { name: "fetch(new Request(url, c.req.raw))", req: { method: "POST", path: "/forward", body: "forwarded", headers: H({ "content-type": "text/plain", "x-test": "fwd" }) }, expect: 200 },
  { name: "proxy() GET", req: { path: "/proxy/a/b?x=1&x=2", headers: H({ "x-test": "proxied", accept: "application/json" }) }, expect: 200 },
  { name: "proxy() POST", req: { method: "POST", path: "/proxy/post", body: "proxied body", headers: H({ "content-type": "text/plain", "x-test": "p" }) }, expect: 200 },
  { name: "proxy() POST chunked", req: { method: "POST", path: "/proxy/post", chunks: ["proxied ", "chunked"], headers: H({ "content-type": "text/plain" }) }, expect: 200 },
];

/** Several requests on one connection, pipelined (one write) and one after another. */
const GROUPS: Group[] = [
  {
    name: "GETs",
    reqs: [
      { path: "/text" },
      { path: "/json" },
      { method: "HEAD", path: "/sized" },
      { path: "/query?a=1&a=2" },
      { path: "/empty" },
      { path: "/redirect" },
      { path: "/not-modified" },
      { path: "/big" },
      { path: "/no/such/route" },
      { path: "/cookies/set" },
    ],
  },
  {
    name: "POSTs",
    reqs: [
      { method: "POST", path: "/echo", body: "one", headers: TEXT_PLAIN },
      { method: "POST", path: "/echo", chunks: ["two ", "chunked"], headers: TEXT_PLAIN },
      { method: "POST", path: "/form", body: "a=1&a=2", headers: H({ "content-type": URLENC }) },
      { method: "POST", path: "/limit/custom", body: "within", headers: TEXT_PLAIN },
      { method: "POST", path: "/limit/custom", body: "x".repeat(LIMIT + 1), headers: TEXT_PLAIN, bodyUnread: true },
      { method: "POST", path: "/upload-size", body: BIG.subarray(0, 100_000) },
      { path: "/text" },
    ],
  },
  {
    name: "chunked bodyLimit and rebuild",
    reqs: [
      { method: "POST", path: "/limit/custom", chunks: ["a", "b"], headers: TEXT_PLAIN },
      { method: "POST", path: "/rebuild", body: "r", headers: TEXT_PLAIN },
      { path: "/json" },
    ],
  },
  {
    name: "streams",
    reqs: [
      { path: "/stream", stream: true },
      { path: "/sse", stream: true },
      { path: "/stream-text", stream: true },
      { path: "/compress/text", headers: H({ "accept-encoding": "gzip" }), stream: true },
      { path: "/text" },
    ],
  },
];

// ---------------------------------------------------------------------------
// Observing one side
// ---------------------------------------------------------------------------

/** What one server sent, in a form both transports give. */
interface Observed {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** fetch only: reading the body failed. */
  bodyError?: boolean;
  /** raw only. */
  framing?: Framing;
  complete?: boolean;
  closed?: boolean;
}

async function viaFetch(port: number, req: Req): Promise<Observed> {
  const init: RequestInit & { duplex?: "half" } = {
    method: req.method ?? "GET",
    headers: req.headers,
    redirect: "manual",
    signal: AbortSignal.timeout(5000),
  };
  if (req.body !== undefined) init.body = req.body as BodyInit;
  else if (req.chunks) {
    const chunks = req.chunks.map((c) => (typeof c === "string" ? new TextEncoder().encode(c) : c));
    init.body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (const c of chunks) ctrl.enqueue(c);
        ctrl.close();
      },
    });
    init.duplex = "half";
  }
  const res = await fetch(`http://127.0.0.1:${port}${req.path}`, init);
  const headers: [string, string][] = [];
  res.headers.forEach((v, k) => {
    if (k !== "set-cookie") headers.push([k, v]);
  });
  for (const v of res.headers.getSetCookie()) headers.push(["set-cookie", v]);
  const parts: Uint8Array[] = [];
  let bodyError = false;
  if (res.body) {
    const reader = res.body.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
      }
    } catch {
      bodyError = true;
    }
  }
  return { status: res.status, headers, body: Buffer.concat(parts), bodyError };
}

const fromWire = (r: WireResponse, closed?: boolean): Observed => ({
  status: r.status,
  headers: r.headers,
  body: r.body,
  framing: r.framing,
  complete: r.complete,
  closed,
});

// ---------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------

function fields(o: Observed): Fields {
  const f: Fields = new Map();
  for (const [k, v] of o.headers) {
    const name = k.toLowerCase();
    f.set(name, [...(f.get(name) ?? []), v]);
  }
  return f;
}

/** A compressed raw body, decoded, so a mismatch shows as text. */
function decoded(o: Observed): Uint8Array {
  const ce = o.headers.find(([k]) => k.toLowerCase() === "content-encoding")?.[1];
  if (o.framing === undefined || !ce || !o.complete) return o.body;
  try {
    return ce === "gzip" ? gunzipSync(o.body) : ce === "deflate" ? inflateSync(o.body) : o.body;
  } catch {
    return o.body;
  }
}

function preview(b: Uint8Array): string {
  const s = Buffer.from(b.subarray(0, 160)).toString("utf8");
  return JSON.stringify(s) + (b.length > 160 ? "…" : "");
}

const show = (v: string[] | undefined) => (v?.length ? v.map((x) => JSON.stringify(x)).join(" + ") : "(none)");

/** Every way `a` (anyserve) differs from `n` (native), one line each, after the documented rules; empty when equal. */
function differences(a: Observed, n: Observed, ctx: PairCtx, serverMade = false): string[] {
  const out: string[] = [];
  if (a.status !== n.status) out.push(`status: anyserve ${a.status}, native ${n.status}`);
  if (a.closed !== n.closed) out.push(`connection closed after the response: anyserve ${a.closed}, native ${n.closed}`);
  if (serverMade) return out;
  const fa = fields(a);
  const fn = fields(n);
  for (const r of DOCUMENTED) if (r.runtimes.includes(RUNTIME)) r.apply(fa, fn, ctx);
  for (const name of [...new Set([...fa.keys(), ...fn.keys()])].sort()) {
    const va = fa.get(name);
    const vn = fn.get(name);
    if (JSON.stringify(va ?? []) !== JSON.stringify(vn ?? [])) out.push(`header ${name}: anyserve ${show(va)}, native ${show(vn)}`);
  }
  const ba = decoded(a);
  const bn = decoded(n);
  if (Buffer.compare(Buffer.from(ba), Buffer.from(bn)) !== 0) {
    out.push(`body: anyserve ${ba.length} bytes ${preview(ba)}, native ${bn.length} bytes ${preview(bn)}`);
  } else if (!ctx.stream && Buffer.compare(Buffer.from(a.body), Buffer.from(n.body)) !== 0) {
    out.push(`body bytes on the wire differ (${a.body.length} vs ${n.body.length}), decoded equal`);
  }
  if (!!a.bodyError !== !!n.bodyError) out.push(`body read error: anyserve ${!!a.bodyError}, native ${!!n.bodyError}`);
  if (a.complete !== n.complete) out.push(`body complete on the wire: anyserve ${a.complete}, native ${n.complete}`);
  if (!ctx.skipFraming && a.framing !== n.framing) out.push(`framing: anyserve ${a.framing}, native ${n.framing}`);
  return out;
}

/** With ANYSERVE_DIFF_REPORT=FILE, every difference found is appended to FILE as a JSON line. */
function report(test: string, diffs: string[]): void {
  const file = process.env.ANYSERVE_DIFF_REPORT;
  if (file && diffs.length) appendFileSync(file, JSON.stringify({ runtime: RUNTIME, test, diffs }) + "\n");
}

// ---------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------

interface Running {
  port: number;
  close(): Promise<void>;
}

type DenoServe = (
  options: { port: number; hostname: string; onListen?: (addr: unknown) => void },
  handler: (req: Request, info: unknown) => Response | Promise<Response>,
) => { addr: { port: number }; shutdown(): Promise<void> };
type BunServe = (options: { port: number; hostname: string; fetch: (req: Request, server: unknown) => Response | Promise<Response> }) => {
  port: number;
  stop(force?: boolean): Promise<void> | void;
};

async function startNative(origin: string): Promise<Running> {
  if (RUNTIME === "deno") {
    const app = makeApp({ origin });
    const s = (g.Deno as { serve: DenoServe }).serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (r, info) => app.fetch(r, info));
    return { port: s.addr.port, close: () => s.shutdown() };
  }
  if (RUNTIME === "bun") {
    const app = makeApp({ origin });
    const s = (g.Bun as { serve: BunServe }).serve({ port: 0, hostname: "127.0.0.1", fetch: (r, server) => app.fetch(r, server) });
    return { port: s.port, close: async () => void (await s.stop(true)) };
  }
  const script = fileURLToPath(new URL("./native_node.ts", import.meta.url));
  const child = spawn(process.execPath, [script], { env: { ...process.env, ANYSERVE_DIFF_ORIGIN: origin }, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("native server did not start within 10 s")), 10_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl !== -1) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)).port);
      }
    });
    child.once("exit", (code) => reject(new Error(`native server exited (${code})`)));
  });
  return {
    port,
    close: async () => {
      child.stdin!.end();
      const t = setTimeout(() => child.kill(), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

function lookup<T>(table: Record<Runtime, Record<string, T>>, name: string, caseName: string): T | undefined {
  const t = table[RUNTIME];
  return t[name] ?? t[caseName];
}

/** Fails on any difference; says so when a known difference is gone (Node runs todo bodies; Deno and Bun only list them). */
function verdict(name: string, caseName: string, d: string[]): void {
  report(name, d);
  if (d.length) assert.fail(`anyserve differs from ${NATIVE_NAME}:\n  ${d.join("\n  ")}`);
  if (lookup(KNOWN_DIFFERENCES, name, caseName)) console.log(`differential: "${name}" matches ${NATIVE_NAME} now: delete its KNOWN_DIFFERENCES entry`);
}

function todo(name: string, caseName: string): { todo?: string } {
  const reason = STRICT ? undefined : lookup(KNOWN_DIFFERENCES, name, caseName);
  return reason ? { todo: reason } : {};
}

describe(`differential: anyserve vs ${NATIVE_NAME}`, () => {
  let origin: Origin;
  let native: Running;
  let anyserve: Server;
  let ctx: Ctx;

  before(async () => {
    origin = await startOrigin();
    native = await startNative(origin.url);
    anyserve = serve({ fetch: makeApp({ origin: origin.url }).fetch, port: 0, hostname: "127.0.0.1" });
    await anyserve.ready;
    const payload = { sub: "user-1", role: "admin", iat: 1_700_000_000 };
    const token = await sign(payload, JWT_SECRET, "HS256");
    const base = `http://127.0.0.1:${native.port}`;
    const doc = await fetch(`${base}/etag/doc`);
    await doc.arrayBuffer();
    const cookies = await fetch(`${base}/cookies/set`);
    await cookies.arrayBuffer();
    const dot = token.lastIndexOf(".");
    ctx = {
      jwt: token,
      badJwt: token.slice(0, dot + 1) + (token[dot + 1] === "A" ? "B" : "A") + token.slice(dot + 2),
      etagDoc: doc.headers.get("etag") ?? "",
      signedCookie: (cookies.headers.getSetCookie().find((c) => c.startsWith("s=")) ?? "").split(";")[0],
    };
    assert.ok(ctx.etagDoc && ctx.signedCookie, "the native server set the ETag and the signed cookie");
  });

  after(async () => {
    await Promise.all([anyserve?.close(), native?.close(), origin?.close()]);
  });

  for (const c of CASES) {
    for (const via of c.via ?? ["fetch", "raw"]) {
      const name = `${c.name} [${via}]`;
      it(name, todo(name, c.name), async () => {
        const req = typeof c.req === "function" ? c.req(ctx) : c.req;
        const observe = async (port: number): Promise<Observed> => {
          if (via === "fetch") return viaFetch(port, req);
          const r = await exchange(port, [req], false);
          assert.equal(r.responses.length, 1, `one response from port ${port}, got ${r.responses.length} (closed: ${r.closed})`);
          return fromWire(r.responses[0], r.closed);
        };
        const [a, n] = await Promise.all([observe(anyserve.port), observe(native.port)]);
        if (c.expect !== undefined) assert.equal(n.status, c.expect, `${NATIVE_NAME} answers ${c.expect}: the case tests what it says`);
        const documented = lookup(DOCUMENTED_CASES, name, c.name);
        if (documented?.check) return documented.check(a, n);
        const pair: PairCtx = { case: c.name, via, method: req.method ?? "GET", stream: !!c.stream, requestClose: via === "raw", bodyUnread: c.bodyUnread };
        verdict(name, c.name, differences(a, n, pair, c.serverMade));
      });
    }
  }

  for (const grp of GROUPS) {
    for (const via of ["pipelined", "sequential"] as const) {
      const name = `${grp.name} [${via}]`;
      it(name, todo(name, grp.name), async () => {
        const [a, n] = await Promise.all([exchange(anyserve.port, grp.reqs, via === "pipelined"), exchange(native.port, grp.reqs, via === "pipelined")]);
        const documented = lookup(DOCUMENTED_CASES, name, grp.name);
        if (documented?.checkGroup) return documented.checkGroup(a, n);
        assert.equal(n.responses.length, grp.reqs.length, `${NATIVE_NAME} answers every request`);
        const d: string[] = [];
        if (a.responses.length !== n.responses.length) d.push(`responses: anyserve ${a.responses.length}, native ${n.responses.length}`);
        if (a.closed !== n.closed) d.push(`connection closed after the last: anyserve ${a.closed}, native ${n.closed}`);
        for (let i = 0; i < Math.min(a.responses.length, n.responses.length); i++) {
          const r = grp.reqs[i];
          const pair: PairCtx = { case: grp.name, via, method: r.method ?? "GET", stream: !!r.stream, requestClose: i === grp.reqs.length - 1, bodyUnread: r.bodyUnread };
          for (const l of differences(fromWire(a.responses[i]), fromWire(n.responses[i]), pair)) d.push(`#${i} ${r.method ?? "GET"} ${r.path}: ${l}`);
        }
        verdict(name, grp.name, d);
      });
    }
  }
});
