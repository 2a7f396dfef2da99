/**
 * The app of the differential suite: one realistic Hono app that uses Hono's
 * own middleware and helpers the way an application does. The suite serves
 * a copy on anyserve and a copy on the runtime's own server and compares
 * what each sends.
 *
 * No route reads `c.env` or the connection (the native servers' env differs
 * by design, and the ports differ); no route echoes `Host` or the URL's
 * origin, since the two servers listen on different ports.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { cors } from "hono/cors";
import { etag } from "hono/etag";
import { compress } from "hono/compress";
import { secureHeaders } from "hono/secure-headers";
import { basicAuth } from "hono/basic-auth";
import { bearerAuth } from "hono/bearer-auth";
import { jwt } from "hono/jwt";
import { bodyLimit } from "hono/body-limit";
import { methodOverride } from "hono/method-override";
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from "hono/cookie";
import { stream, streamSSE, streamText } from "hono/streaming";
import { proxy } from "hono/proxy";

/** Where the app's proxy routes forward to: a plain origin server the suite starts. */
export interface AppConfig {
  origin: string;
}

export const BASIC_USER = "user";
export const BASIC_PASSWORD = "pa:ss wörd";
export const BEARER_TOKEN = "tok-123._~+/";
export const JWT_SECRET = "jwt-secret-of-the-differential-suite";
export const COOKIE_SECRET = "cookie-secret";
/** bodyLimit's limit on /limit/*. */
export const LIMIT = 64;

/** 1 MiB of a fixed pattern (not all one byte, so a misplaced slice shows). */
export const BIG: Uint8Array = (() => {
  const b = new Uint8Array(1 << 20);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 10)) & 0xff;
  return b;
})();

/** A compressible text well over compress()'s 1024-byte threshold. */
export const LONG_TEXT = Array.from({ length: 200 }, (_, i) => `line ${i}: the quick brown fox, ünïcödé ✓\n`).join("");

export const ETAG_DOC = { id: 7, title: "a document", tags: ["x", "y"] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** parseBody values as JSON: a File becomes its name, type, size and text. */
async function formToJson(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const one = async (v: unknown) =>
    v instanceof File ? { file: v.name, type: v.type, size: v.size, text: await v.text() } : v;
  for (const [k, v] of Object.entries(body)) out[k] = Array.isArray(v) ? await Promise.all(v.map(one)) : await one(v);
  return out;
}

/** Builds the app; each server gets its own instance. */
export function makeApp(config: AppConfig): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    return c.text(`app error: ${err.message}`, 500);
  });
  app.notFound((c) => c.json({ error: "not found", path: c.req.path }, 404));

  // Plain responses. /text is Hono's fast path: `new Response(text)` with no headers.
  app.get("/text", (c) => c.text("héllo wörld ✓"));
  app.get("/text-status", (c) => c.text("created text", 201));
  app.get("/json", (c) => c.json({ ok: true, n: 1, s: "ü" }));
  app.get("/html", (c) => c.html("<p>hi ü</p>"));
  app.get("/empty", (c) => c.body(null, 204));
  app.get("/not-modified", (c) => c.body(null, 304, { etag: '"v1"' }));
  app.get("/empty-200", (c) => c.body(null, 200));
  app.get("/big", (c) => c.body(BIG.slice(), 200, { "content-type": "application/octet-stream" }));
  app.get("/sized", (c) => {
    // Sets Content-Length itself, as a handler that knows the size does: kept on HEAD too.
    c.header("content-length", "11");
    c.header("content-type", "text/plain; charset=utf-8");
    return c.req.method === "HEAD" ? c.body(null) : c.body("hello world");
  });
  app.get("/blob", () => new Response(new Blob(["blob body"], { type: "application/x-blob" })));
  app.get("/search-params", () => new Response(new URLSearchParams({ a: "1", b: "two words" })));
  app.get("/custom-status", (c) => c.text("teapot", 418));
  app.get("/multi-header", (c) => {
    c.header("x-multi", "one");
    c.header("x-multi", "two", { append: true });
    c.header("vary", "Accept");
    c.header("vary", "Origin", { append: true });
    return c.text("multi");
  });

  // Redirects.
  app.get("/redirect", (c) => c.redirect("/text"));
  app.get("/redirect-301", (c) => c.redirect("/text", 301));
  app.get("/redirect-abs", (c) => c.redirect("https://example.com/a?b=c", 308));
  app.post("/redirect-303", (c) => c.redirect("/text", 303));

  // Queries and paths.
  app.get("/query", (c) => {
    const u = new URL(c.req.url);
    return c.json({ queries: c.req.queries(), query: c.req.query(), search: u.search });
  });
  app.get("/u/:name", (c) => c.json({ name: c.req.param("name"), path: c.req.path }));
  app.get("/ünï/çødé", (c) => c.json({ path: c.req.path, raw: new URL(c.req.url).pathname }));
  app.get("/files/:rest{.+}", (c) => c.json({ rest: c.req.param("rest") }));

  // Errors.
  app.get("/http-exception", () => {
    throw new HTTPException(418, { message: "I am a teapot" });
  });
  app.get("/http-exception-res", () => {
    throw new HTTPException(401, {
      res: new Response("custom unauthorized", { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } }),
    });
  });
  app.get("/throw", () => {
    throw new Error("boom (expected in the differential suite)");
  });
  app.get("/throw-async", async () => {
    await sleep(1);
    throw new Error("async boom (expected in the differential suite)");
  });

  // CORS, with a preflight.
  app.use(
    "/cors/*",
    cors({
      origin: ["https://app.example", "https://other.example"],
      allowMethods: ["GET", "POST", "PUT", "DELETE"],
      allowHeaders: ["X-Custom", "Content-Type"],
      exposeHeaders: ["X-Total"],
      credentials: true,
      maxAge: 600,
    }),
  );
  app.get("/cors/data", (c) => {
    c.header("x-total", "3");
    return c.json([1, 2, 3]);
  });
  app.put("/cors/data", async (c) => c.json({ put: await c.req.json() }));

  // ETag and 304.
  app.use("/etag/*", etag());
  app.get("/etag/doc", (c) => c.json(ETAG_DOC));
  app.get("/etag/text", (c) => c.text("etag text body"));

  // Compression.
  app.use("/compress/*", compress());
  app.get("/compress/text", (c) => c.body(LONG_TEXT, 200, { "content-type": "text/plain; charset=utf-8" }));
  app.get("/compress/json", (c) => c.json({ text: LONG_TEXT }));
  app.get("/compress/small", (c) => c.body("small", 200, { "content-type": "text/plain; charset=utf-8" }));
  app.get("/compress/stream", (c) => {
    c.header("content-type", "text/plain; charset=utf-8");
    return stream(c, async (s) => {
      for (let i = 0; i < 5; i++) {
        await s.write(LONG_TEXT.slice(i * 500, (i + 1) * 500));
        await sleep(2);
      }
    });
  });

  // Security headers and auth.
  app.use("/secure/*", secureHeaders());
  app.get("/secure/page", (c) => c.text("secure page"));
  app.use("/basic/*", basicAuth({ username: BASIC_USER, password: BASIC_PASSWORD }));
  app.get("/basic/page", (c) => c.text("basic ok"));
  app.use("/bearer/*", bearerAuth({ token: BEARER_TOKEN }));
  app.get("/bearer/page", (c) => c.text("bearer ok"));
  // A fixed realm: the default is the request URL, whose port differs between the two servers.
  app.use("/jwt/*", jwt({ secret: JWT_SECRET, alg: "HS256", realm: "differential" }));
  app.get("/jwt/me", (c) => c.json({ payload: c.get("jwtPayload") }));

  // bodyLimit: with Content-Length it checks the header; with a chunked body
  // it reads the body and rebuilds the request (`new Request(c.req.raw, { body })`).
  app.post("/limit/custom", bodyLimit({ maxSize: LIMIT, onError: (c) => c.text("too big", 413) }), async (c) => c.text(`got ${await c.req.text()}`));
  app.post("/limit/default", bodyLimit({ maxSize: LIMIT }), async (c) => c.json(await formToJson(await c.req.parseBody())));

  // methodOverride, three ways (form field, header, query).
  app.use("/mo-form/*", methodOverride({ app }));
  app.use("/mo-header/*", methodOverride({ app, header: "x-http-method-override" }));
  app.use("/mo-query/*", methodOverride({ app, query: "_method" }));
  // A multipart body rebuilt by methodOverride gets a new random boundary: echo its fields.
  const itemBody = async (c: Context) =>
    (c.req.header("content-type") ?? "").startsWith("multipart/") ? await formToJson(await c.req.parseBody()) : await c.req.text();
  for (const base of ["/mo-form", "/mo-header", "/mo-query"]) {
    app.post(`${base}/item`, async (c) => c.json({ method: "POST", body: await itemBody(c) }));
    app.delete(`${base}/item`, async (c) => c.json({ method: "DELETE", body: await itemBody(c) }));
    app.put(`${base}/item`, async (c) => c.json({ method: "PUT", body: await itemBody(c) }));
    app.patch(`${base}/item`, async (c) => c.json({ method: "PATCH", body: await itemBody(c) }));
  }

  // Cookies: several Set-Cookie fields on one response.
  app.get("/cookies/set", async (c) => {
    setCookie(c, "a", "1", { path: "/", httpOnly: true });
    setCookie(c, "b", "two words;ü", { path: "/", maxAge: 3600, sameSite: "Lax", secure: true });
    setCookie(c, "c", "3", { path: "/", expires: new Date(Date.UTC(2001, 0, 1)), domain: "example.com" });
    deleteCookie(c, "old", { path: "/" });
    await setSignedCookie(c, "s", "signed value", COOKIE_SECRET, { path: "/" });
    return c.text("cookies set");
  });
  app.get("/cookies/get", async (c) =>
    c.json({ all: getCookie(c), signed: await getSignedCookie(c, COOKIE_SECRET, "s"), one: getCookie(c, "a") ?? null }));

  // Bodies: parseBody with urlencoded and multipart, and raw bodies.
  app.post("/form", async (c) => c.json(await formToJson(await c.req.parseBody({ all: true }))));
  app.post("/echo", async (c) =>
    c.json({ method: c.req.method, type: c.req.header("content-type") ?? null, body: await c.req.text() }));
  app.post("/upload-size", async (c) => {
    const b = new Uint8Array(await c.req.arrayBuffer());
    let sum = 0;
    for (let i = 0; i < b.length; i++) sum = (sum * 31 + b[i]) >>> 0;
    return c.json({ size: b.length, sum });
  });
  app.post("/json-in", async (c) => c.json({ got: await c.req.json() }));

  // Streams.
  app.get("/stream", (c) =>
    stream(c, async (s) => {
      await s.write("part one;");
      await sleep(5);
      await s.write(new TextEncoder().encode("part two;"));
      await sleep(5);
      await s.write("part three");
    }));
  app.get("/stream-text", (c) =>
    streamText(c, async (s) => {
      await s.writeln("line 1");
      await sleep(5);
      await s.write("line 2 ü");
    }));
  app.get("/sse", (c) =>
    streamSSE(c, async (s) => {
      await s.writeSSE({ id: "1", event: "greeting", data: "hello" });
      await sleep(5);
      await s.writeSSE({ data: "multi\nline", retry: 1000 });
    }));
  app.get("/stream-onerror", (c) =>
    stream(
      c,
      async (s) => {
        await s.write("before;");
        await sleep(5);
        throw new Error("midway");
      },
      async (err, s) => {
        await s.write(`onError: ${err.message}`);
      },
    ));
  // A body stream that errors midway: what reached the socket stays, the response is cut.
  app.get("/stream-error", () => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        if (n++ === 0) {
          ctrl.enqueue(new TextEncoder().encode("first chunk;"));
          return;
        }
        await sleep(20);
        ctrl.error(new Error("stream failed midway (expected in the differential suite)"));
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });

  // Rebuilding a request, as middleware and app code do.
  app.post("/rebuild", async (c) => {
    const r = new Request(c.req.raw, { headers: { "x-added": "yes", "content-type": c.req.header("content-type") ?? "" } });
    return c.json({ method: r.method, added: r.headers.get("x-added"), body: await r.text() });
  });
  app.get("/rebuild-get", async (c) => {
    const r = new Request(c.req.raw, { headers: { "x-added": "yes" } });
    return c.json({ method: r.method, added: r.headers.get("x-added"), path: new URL(r.url).pathname });
  });
  app.post("/rebuild-method", async (c) => {
    const r = new Request(c.req.raw, { method: "PUT" });
    return c.json({ method: r.method, body: await r.text() });
  });
  app.post("/clone", async (c) => {
    const copy = c.req.raw.clone();
    const a = await copy.text();
    const b = await c.req.text();
    return c.json({ a, b, method: copy.method });
  });
  app.post("/forward", async (c) => {
    // fetch() with the incoming request as the init of a new one.
    const res = await fetch(new Request(`${config.origin}/echo/forward`, c.req.raw));
    return c.json({ status: res.status, upstream: await res.json() });
  });

  // Proxying to the origin with Hono's proxy helper, in the form its docs give.
  app.all("/proxy/*", (c) => {
    const u = new URL(c.req.url);
    return proxy(`${config.origin}/echo${u.pathname.slice("/proxy".length)}${u.search}`, {
      ...c.req,
      headers: { ...c.req.header(), "x-forwarded-for": "127.0.0.1", host: undefined },
    });
  });

  return app;
}
