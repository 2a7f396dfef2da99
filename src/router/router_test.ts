import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EMPTY_PARAMS, type Params, Router } from "./mod.ts";

/** A router whose handlers answer "<name> <params as JSON>". */
function echo(name: string) {
  return (_req: Request, params: Params) => new Response(`${name} ${JSON.stringify(params)}`);
}

async function call(router: Router, method: string, path: string): Promise<[number, string, Headers]> {
  const res = await router.fetch(new Request(`http://localhost${path}`, { method }));
  return [res.status, await res.text(), res.headers];
}

describe("Router.fetch", () => {
  it("routes static and param paths and passes params", async () => {
    const router = new Router();
    router.get("/users", echo("list"));
    router.get("/users/:id", echo("user"));
    router.get("/users/:id/posts/:post", echo("post"));
    assert.deepEqual((await call(router, "GET", "/users")).slice(0, 2), [200, "list {}"]);
    assert.deepEqual((await call(router, "GET", "/users/42")).slice(0, 2), [200, 'user {"id":"42"}']);
    assert.deepEqual((await call(router, "GET", "/users/42/posts/7?x=1#h")).slice(0, 2), [
      200,
      'post {"id":"42","post":"7"}',
    ]);
  });

  it("answers 404 when no route matches the path", async () => {
    const router = new Router();
    router.get("/a", echo("a"));
    const [status, body] = await call(router, "GET", "/b");
    assert.equal(status, 404);
    assert.equal(body, "");
  });

  it("uses the notFound option", async () => {
    const router = new Router({ notFound: (req) => new Response(`no ${new URL(req.url).pathname}`, { status: 404 }) });
    assert.deepEqual((await call(router, "GET", "/x")).slice(0, 2), [404, "no /x"]);
  });

  it("answers 405 with a sorted Allow header when other methods match", async () => {
    const router = new Router();
    router.post("/items/:id", echo("post"));
    router.get("/items/:id", echo("get"));
    router.delete("/items/*", echo("delete"));
    const [status, body, headers] = await call(router, "PUT", "/items/1");
    assert.equal(status, 405);
    assert.equal(body, "");
    assert.equal(headers.get("allow"), "DELETE, GET, HEAD, POST");
    assert.equal((await call(router, "PUT", "/other"))[0], 404);
  });

  it("serves HEAD from GET routes without a body", async () => {
    const router = new Router();
    router.get("/page", () => new Response("hello", { status: 201, headers: { "x-a": "1" } }));
    const [status, body, headers] = await call(router, "HEAD", "/page");
    assert.equal(status, 201);
    assert.equal(body, "");
    assert.equal(headers.get("x-a"), "1");
  });

  it("prefers an explicit HEAD route", async () => {
    const router = new Router();
    router.get("/page", () => new Response("get"));
    router.head("/page", () => new Response(null, { headers: { "x-head": "yes" } }));
    const [, , headers] = await call(router, "HEAD", "/page");
    assert.equal(headers.get("x-head"), "yes");
  });

  it("ALL routes match every method, and method routes win over them", async () => {
    const router = new Router();
    router.all("/any", echo("all"));
    router.get("/any", echo("get"));
    router.all("/late", echo("all-late"));
    assert.equal((await call(router, "GET", "/any"))[1], "get {}");
    assert.equal((await call(router, "PATCH", "/any"))[1], "all {}");
    // (Bun's Request turns methods it does not know into GET, so PURGE here.)
    assert.equal((await call(router, "PURGE", "/any"))[1], "all {}");
    assert.equal(router.find("BREW", "/any")?.params, EMPTY_PARAMS);
    assert.equal(router.find("BREW", "/nope"), null);
    assert.equal((await call(router, "GET", "/late"))[1], "all-late {}");
  });

  it("decodes percent-encoded params", async () => {
    const router = new Router();
    router.get("/tags/:tag", echo("tag"));
    assert.equal((await call(router, "GET", "/tags/a%20b%2Fc"))[1], 'tag {"tag":"a b/c"}');
    assert.equal((await call(router, "GET", "/tags/%E0%A4%A"))[1], 'tag {"tag":"%E0%A4%A"}');
  });

  it("awaits async handlers", async () => {
    const router = new Router();
    router.get("/async", async () => {
      await Promise.resolve();
      return new Response("later");
    });
    assert.equal((await call(router, "GET", "/async"))[1], "later");
  });

  it("is bound, so it can be passed around", async () => {
    const router = new Router();
    router.get("/", echo("root"));
    const { fetch } = router;
    const res = await fetch(new Request("http://localhost/"));
    assert.equal(await res.text(), "root {}");
  });
});

describe("Router patterns", () => {
  it("wildcards capture the rest under '*'", async () => {
    const router = new Router();
    router.get("/static/*", echo("static"));
    assert.equal((await call(router, "GET", "/static/css/app.css"))[1], 'static {"*":"css/app.css"}');
    assert.equal((await call(router, "GET", "/static"))[1], 'static {"*":""}');
  });

  it("pattern params only match what the pattern allows", async () => {
    const router = new Router();
    router.get("/files/:name{[a-z]+\\.png}", echo("png"));
    router.get("/files/:name", echo("any"));
    assert.equal((await call(router, "GET", "/files/cat.png"))[1], 'png {"name":"cat.png"}');
    assert.equal((await call(router, "GET", "/files/cat.gif"))[1], 'any {"name":"cat.gif"}');
  });

  it("optional params match with and without the segment", async () => {
    const router = new Router();
    router.get("/api/:version?", echo("api"));
    assert.equal((await call(router, "GET", "/api"))[1], "api {}");
    assert.equal((await call(router, "GET", "/api/v2"))[1], 'api {"version":"v2"}');
  });

  it("priority is static, pattern, param, wildcard regardless of order", () => {
    const router = new Router<() => Response>();
    const handlers = {
      wild: () => new Response(),
      param: () => new Response(),
      pattern: () => new Response(),
      stat: () => new Response(),
    };
    router.get("/p/*", handlers.wild);
    router.get("/p/:id", handlers.param);
    router.get("/p/:n{[0-9]+}", handlers.pattern);
    router.get("/p/me", handlers.stat);
    assert.equal(router.find("GET", "/p/me")?.handler, handlers.stat);
    assert.equal(router.find("GET", "/p/12")?.handler, handlers.pattern);
    assert.equal(router.find("GET", "/p/you")?.handler, handlers.param);
    assert.equal(router.find("GET", "/p/a/b")?.handler, handlers.wild);
  });

  it("throws on a duplicate route", () => {
    const router = new Router();
    router.get("/x/:id", echo("a"));
    assert.throws(() => router.get("/x/:other", echo("b")), /already registered/);
    router.get("/y", echo("a"));
    assert.throws(() => router.get("/y", echo("b")), /already registered/);
    router.post("/y", echo("c"));
  });

  it("throws on an unsupported pattern", () => {
    assert.throws(() => new Router().get("/a*b/c", echo("x")), TypeError);
  });
});

describe("Router.find / allowed", () => {
  it("returns the same shared match for static routes (no allocation)", () => {
    const router = new Router();
    const handler = echo("s");
    router.get("/health", handler);
    const a = router.find("GET", "/health");
    const b = router.find("GET", "/health");
    assert.ok(a !== null);
    assert.equal(a, b);
    assert.equal(a.handler, handler);
    assert.equal(a.params, EMPTY_PARAMS);
    assert.ok(Object.isFrozen(EMPTY_PARAMS));
  });

  it("returns fresh params for param routes", () => {
    const router = new Router();
    router.get("/u/:id", echo("u"));
    const a = router.find("GET", "/u/1");
    const b = router.find("GET", "/u/2");
    assert.deepEqual(a?.params, { id: "1" });
    assert.deepEqual(b?.params, { id: "2" });
  });

  it("returns null for unknown methods without ALL routes", () => {
    const router = new Router();
    router.get("/a", echo("a"));
    assert.equal(router.find("POST", "/a"), null);
    assert.equal(router.find("get", "/a"), null);
  });

  it("lists allowed methods", () => {
    const router = new Router();
    router.on(["PUT", "POST"], "/r/:id", echo("w"));
    router.get("/r/:id", echo("r"));
    assert.deepEqual(router.allowed("/r/1"), ["GET", "HEAD", "POST", "PUT"]);
    assert.deepEqual(router.allowed("/nothing"), []);
  });
});
