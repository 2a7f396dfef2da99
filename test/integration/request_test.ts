// The Request a handler gets is a real one: every web API that takes a
// Request treats it as the runtime's own (issue 9, item 1). Runs on Node,
// Deno and Bun with `serve` from mod.ts, on real sockets.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { methodOverride } from "hono/method-override";
import { proxy } from "hono/proxy";
import { serve, type Server } from "../../mod.ts";
import { parseResponses, rawRequest } from "../helpers/raw_client.ts";

const NATIVE_REQUEST = globalThis.Request;
const NATIVE_RESPONSE = globalThis.Response;
const NATIVE_URL_GETTER = Object.getOwnPropertyDescriptor(Request.prototype, "url")!.get!;

// The same cases run a second time with the `lightweightGlobals: true`
// opt-in (src/fetch/light.ts), where the handler's Request is a light one
// standing in for the runtime's: what differs is said case by case.
for (const light of [false, true]) {
let aborted: (name: string) => void = () => {};
let enter: () => void = () => {};
const entered = new Promise<void>((resolve) => (enter = resolve));

describe(light ? "with lightweightGlobals, the handler's Request stands in for a real one" : "the handler's Request is a real Request", () => {
  let server: Server;
  let upstream: Server;
  let base = "";
  let upstreamBase = "";

  before(async () => {
    upstream = serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) =>
        Response.json({ method: req.method, path: new URL(req.url).pathname, x: req.headers.get("x-test"), body: await req.text() }),
    });
    await upstream.ready;
    upstreamBase = `http://127.0.0.1:${upstream.port}`;
    const app = new Hono();
    app.post("/rebuild", async (c) => {
      const r = new Request(c.req.raw, { headers: { "x-test": "init" } });
      const used = c.req.raw.bodyUsed;
      // What the runtime does to a Request of its own made the same way (Bun leaves its body unused).
      const native = new Request(c.req.url, { method: "POST", body: new Uint8Array([120]) });
      new Request(native, { headers: { "x-test": "init" } });
      return c.json({ method: r.method, url: r.url, x: r.headers.get("x-test"), body: await r.text(), used: used === native.bodyUsed });
    });
    app.post("/copy", async (c) => {
      const r = new Request(c.req.raw);
      return c.json({ method: r.method, ct: r.headers.get("content-type"), body: await r.text() });
    });
    app.post("/clone", async (c) => {
      const copy = c.req.raw.clone();
      return c.json({ a: await copy.text(), b: await c.req.raw.text() });
    });
    app.post("/response", (c) => new Response(c.req.raw.body));
    app.post("/forward", (c) => fetch(new Request(`${upstreamBase}/up`, c.req.raw)));
    app.post("/fetch", (c) => fetch(`${upstreamBase}/up`, { method: "POST", headers: c.req.raw.headers, body: c.req.raw.body, duplex: "half" } as RequestInit));
    app.get("/brand", (c) => {
      const get = (k: string) => Object.getOwnPropertyDescriptor(Request.prototype, k)!.get!.call(c.req.raw);
      return c.json({ instanceOf: c.req.raw instanceof Request, method: get("method"), url: get("url"), accept: (get("headers") as Headers).get("accept"), tag: Object.prototype.toString.call(c.req.raw) });
    });
    app.get("/native-brand", (c) => {
      // The runtime's own getter, taken before the opt-in replaced the global.
      try {
        return c.text(String(NATIVE_URL_GETTER.call(c.req.raw)));
      } catch (e) {
        return c.text((e as Error).name);
      }
    });
    app.get("/hang", (c) => {
      const signal = c.req.raw.signal;
      signal.addEventListener("abort", () => aborted((signal.reason as Error).name));
      enter();
      return new Promise<Response>(() => {});
    });
    app.get("/mutate", (c) => {
      try {
        c.req.raw.headers.set("x-added", "1");
        return c.text(`mutable ${c.req.raw.headers.get("x-added")}`);
      } catch (e) {
        return c.text(`immutable ${(e as Error).name}`);
      }
    });
    app.get("/getbody", async (c) => c.text(`[${await c.req.text()}] ${c.req.raw.body === null}`));
    app.all("/proxy", (c) => proxy(`${upstreamBase}/up`, { raw: c.req.raw }));
    app.get("/fields", (c) => c.json([...c.req.raw.headers]));
    app.post("/bytes", async (c) => {
      const r = c.req.raw;
      const b = await r.arrayBuffer();
      return c.json({ len: b.byteLength, used: r.bodyUsed, tag: Object.prototype.toString.call(r) });
    });
    app.post("/limited", bodyLimit({ maxSize: 8 }), async (c) => c.text(`ok ${await c.req.text()}`));
    app.use("/override", methodOverride({ app }));
    app.delete("/override", (c) => c.text("deleted"));
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1", lightweightGlobals: light });
    await server.ready;
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server.close({ deadlineMs: 500 });
    await upstream.close({ deadlineMs: 500 });
    // The opt-in is taken back once its server has finished.
    assert.equal(globalThis.Request, NATIVE_REQUEST);
    assert.equal(globalThis.Response, NATIVE_RESPONSE);
  });

  if (light) {
    it("installs the light globals while the server runs", () => {
      assert.notEqual(globalThis.Request, NATIVE_REQUEST);
      assert.notEqual(globalThis.Response, NATIVE_RESPONSE);
      assert.equal(Request.name, "Request");
      assert.equal(Response.name, "Response");
    });
  }

  it(light ? "a runtime getter taken before the opt-in refuses it (the documented limit)" : "a runtime getter taken early accepts it", async () => {
    const r = await fetch(`${base}/native-brand`);
    assert.equal(await r.text(), light ? "TypeError" : `${base}/native-brand`);
  });

  it("new Request(req, init) keeps method, URL and body; init overrides headers", async () => {
    const r = await fetch(`${base}/rebuild?q=1`, { method: "POST", body: "hello", headers: { "x-test": "orig" } });
    assert.deepEqual(await r.json(), { method: "POST", url: `${base}/rebuild?q=1`, x: "init", body: "hello", used: true });
  });

  it("new Request(req) of a chunked POST keeps its streamed body", async () => {
    const { text } = await rawRequest(
      server.port,
      "POST /copy HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    const res = parseResponses(text)[0];
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { method: "POST", ct: "text/plain", body: "abcde" });
  });

  it("clone() leaves both bodies readable", async () => {
    const r = await fetch(`${base}/clone`, { method: "POST", body: "twice" });
    assert.deepEqual(await r.json(), { a: "twice", b: "twice" });
  });

  it("new Response(req.body) streams the request body back", async () => {
    const r = await fetch(`${base}/response`, { method: "POST", body: "echo me" });
    assert.equal(await r.text(), "echo me");
  });

  it("fetch() forwards it to another server", async () => {
    const r = await fetch(`${base}/forward`, { method: "POST", body: "payload", headers: { "x-test": "fwd" } });
    assert.deepEqual(await r.json(), { method: "POST", path: "/up", x: "fwd", body: "payload" });
    const r2 = await fetch(`${base}/fetch`, { method: "POST", body: "streamed", headers: { "x-test": "s" } });
    assert.deepEqual(await r2.json(), { method: "POST", path: "/up", x: "s", body: "streamed" });
  });

  it("passes brand checks: instanceof, Request.prototype getters", async () => {
    const r = await fetch(`${base}/brand`, { headers: { accept: "x/y" } });
    assert.deepEqual(await r.json(), { instanceOf: true, method: "GET", url: `${base}/brand`, accept: "x/y", tag: "[object Request]" });
  });

  it("works with Hono's bodyLimit, by Content-Length and chunked, within and over the limit", async () => {
    const within = await fetch(`${base}/limited`, { method: "POST", body: "1234" });
    assert.equal(within.status, 200);
    assert.equal(await within.text(), "ok 1234");
    const over = await fetch(`${base}/limited`, { method: "POST", body: "123456789" });
    assert.equal(over.status, 413);
    await over.text();
    for (const [body, status, expected] of [["3\r\nabc\r\n0\r\n\r\n", 200, "ok abc"], ["5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n", 413, null]] as const) {
      const { text } = await rawRequest(server.port, `POST /limited HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
      const res = parseResponses(text)[0];
      assert.equal(res.status, status, body);
      if (expected !== null) assert.equal(res.body, expected);
    }
  });

  it("works with Hono's methodOverride", async () => {
    const r = await fetch(`${base}/override`, { method: "POST", body: new URLSearchParams({ _method: "DELETE" }) });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "deleted");
  });

  it("hono/proxy proxy() forwards method, headers and body to an origin", async () => {
    const r = await fetch(`${base}/proxy`, { method: "PUT", body: "sent on", headers: { "x-test": "p" } });
    assert.deepEqual(await r.json(), { method: "PUT", path: "/up", x: "p", body: "sent on" });
    const g = await fetch(`${base}/proxy`, { headers: { "x-test": "g" } });
    assert.deepEqual(await g.json(), { method: "GET", path: "/up", x: "g", body: "" });
  });

  it("keeps every field the client sent, in order, with Host and Cookie", async () => {
    const { text } = await rawRequest(server.port, "GET /fields HTTP/1.1\r\nHost: a.test\r\nCookie: k=v\r\nX-Dup: 1\r\nX-Dup: 2\r\nX-Pad:   spaced value  \r\nConnection: close\r\n\r\n");
    const res = parseResponses(text)[0];
    assert.deepEqual(JSON.parse(res.body), [["connection", "close"], ["cookie", "k=v"], ["host", "a.test"], ["x-dup", "1, 2"], ["x-pad", "spaced value"]]);
  });

  it("reads a body that arrived with its head, and one that arrived later", async () => {
    const big = "x".repeat(200_000);
    const r = await fetch(`${base}/bytes`, { method: "POST", body: big });
    assert.deepEqual(await r.json(), { len: 200_000, used: true, tag: "[object Request]" });
    const r2 = await fetch(`${base}/bytes`, { method: "POST", body: "small" });
    assert.deepEqual(await r2.json(), { len: 5, used: true, tag: "[object Request]" });
  });

  it("answers 501 to TRACE where the runtime's Request cannot carry it (Node, Deno); Bun's can", async () => {
    const { text } = await rawRequest(server.port, "TRACE /brand HTTP/1.1\r\nHost: a\r\n\r\n");
    let carried = true;
    try {
      new Request("http://a/", { method: "TRACE" });
    } catch {
      carried = false;
    }
    // Carried, it reaches the app, which has no TRACE route.
    assert.equal(parseResponses(text)[0].status, carried ? 404 : 501);
  });

  it("a Host the URL parser refuses: 400 on Node and Bun (and with the opt-in); on Deno, as from Deno.serve, the handler gets it", async () => {
    const { text } = await rawRequest(server.port, "GET /brand HTTP/1.1\r\nHost: 1.2.3.999\r\nConnection: close\r\n\r\n");
    const res = parseResponses(text)[0];
    if ("Deno" in globalThis && !light) {
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).url, "http://1.2.3.999/brand");
    } else assert.equal(res.status, 400);
    const r = await fetch(`${base}/brand`);
    assert.equal(r.status, 200);
    await r.text();
  });

  it("a GET's body is read and dropped, as by each runtime's own server; the connection goes on", async () => {
    const { text } = await rawRequest(
      server.port,
      "GET /getbody HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
        "GET /getbody HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
        "GET /getbody HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert.deepEqual(parseResponses(text).map((r) => [r.status, r.body]), [[200, "[] true"], [200, "[] true"], [200, "[] true"]]);
  });

  it("headers are mutable on Node and Bun (and with the opt-in), immutable on Deno: as from each runtime's own server", async () => {
    const r = await fetch(`${base}/mutate`);
    assert.equal(await r.text(), "Deno" in globalThis && !light ? "immutable TypeError" : "mutable 1");
  });

  it("aborts request.signal when the client leaves", async () => {
    const { connect } = await import("node:net");
    const reason = new Promise<string>((resolve) => (aborted = resolve));
    const sock = connect(server.port, "127.0.0.1");
    sock.on("error", () => {});
    sock.write("GET /hang HTTP/1.1\r\nHost: a\r\n\r\n");
    await entered;
    sock.destroy();
    assert.equal(await reason, "AbortError");
  });
});
}
