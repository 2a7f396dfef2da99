import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Router as HonoRouter } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { TrieRouter } from "hono/router/trie-router";
import { AnyRouter } from "./mod.ts";

type Route = [method: string, path: string];
type Matched = [handler: string, params: Record<string, string>][];

/** Normalizes either form of Hono's `Result` to `[handler, params][]`, params sorted. */
function normalize(result: ReturnType<HonoRouter<string>["match"]>): Matched {
  const [matches, stash] = result as [[string, Record<string, string | number>][], string[] | undefined];
  return matches.map(([handler, map]) => {
    const params: Record<string, string> = {};
    for (const key of Object.keys(map).sort()) {
      const value = stash === undefined ? (map[key] as string) : stash[map[key] as number];
      if (value !== undefined) params[key] = value;
    }
    return [handler, params];
  });
}

/** Adds routes; each handler is named `"<index> <method> <path>"` or by `names`. */
function build<R extends HonoRouter<string>>(router: R, routes: Route[], names?: string[]): R {
  routes.forEach(([method, path], i) => router.add(method, path, names?.[i] ?? `${i} ${method} ${path}`));
  return router;
}

function match(routes: Route[], method: string, path: string, names?: string[]): Matched {
  return normalize(build(new AnyRouter<string>(), routes, names).match(method, path));
}

/** Hono's default choice: RegExpRouter, or TrieRouter when RegExpRouter rejects the routes. */
function honoMatch(routes: Route[], method: string, path: string): Matched {
  try {
    return normalize(build(new RegExpRouter<string>(), routes).match(method, path));
  } catch {
    return normalize(build(new TrieRouter<string>(), routes).match(method, path));
  }
}

describe("AnyRouter: Hono routing cases", () => {
  const handlers = (result: Matched) => result.map(([handler]) => handler);

  it("has Hono's Router shape", () => {
    const router: HonoRouter<string> = new AnyRouter<string>();
    assert.equal(router.name, "AnyRouter");
  });

  it("basic methods, including custom ones", () => {
    const routes: Route[] = [["GET", "/hello"], ["POST", "/hello"], ["PURGE", "/hello"]];
    const names = ["get", "post", "purge"];
    assert.deepEqual(handlers(match(routes, "GET", "/hello", names)), ["get"]);
    assert.deepEqual(handlers(match(routes, "POST", "/hello", names)), ["post"]);
    assert.deepEqual(handlers(match(routes, "PURGE", "/hello", names)), ["purge"]);
    assert.deepEqual(match(routes, "PUT", "/hello", names), []);
    assert.deepEqual(match(routes, "GET", "/", names), []);
  });

  it("named params and regexp params", () => {
    assert.deepEqual(match([["GET", "/entry/:id"]], "GET", "/entry/123", ["e"]), [["e", { id: "123" }]]);
    const post: Route[] = [["GET", "/post/:date{[0-9]+}/:title{[a-z]+}"]];
    assert.deepEqual(match(post, "GET", "/post/20210101/hello", ["p"]), [
      ["p", { date: "20210101", title: "hello" }],
    ]);
    assert.deepEqual(match(post, "GET", "/post/onetwothree"), []);
    assert.deepEqual(match(post, "GET", "/post/123/123"), []);
  });

  it("capture groups in regexp params", () => {
    for (const re of ["(?:bar|baz)", "ba(?:r|z)", "ba(r|z)"]) {
      const routes: Route[] = [["get", `/foo/:capture{${re}}`]];
      assert.deepEqual(match(routes, "get", "/foo/bar", ["ok"]), [["ok", { capture: "bar" }]]);
      assert.deepEqual(match(routes, "get", "/foo/baz", ["ok"]), [["ok", { capture: "baz" }]]);
      assert.deepEqual(match(routes, "get", "/foo/qux"), []);
    }
  });

  it("regexp params may include slashes", () => {
    const routes: Route[] = [["GET", "/js/:filename{[a-z0-9/]+.js}"], ["GET", "/js/main.js"]];
    const names = ["any", "main"];
    assert.deepEqual(match(routes, "GET", "/js/main.js", names), [["any", { filename: "main.js" }], ["main", {}]]);
    assert.deepEqual(match(routes, "GET", "/js/chunk/nest/123.js", names), [
      ["any", { filename: "chunk/nest/123.js" }],
    ]);
  });

  it("wildcards: middle, tail and fallback", () => {
    assert.deepEqual(handlers(match([["GET", "/wild/*/card"]], "GET", "/wild/xxx/card", ["w"])), ["w"]);
    const routes: Route[] = [["GET", "/api/abc"], ["GET", "/api/*"]];
    assert.deepEqual(handlers(match(routes, "GET", "/api/abc", ["abc", "fb"])), ["abc", "fb"]);
    assert.deepEqual(handlers(match(routes, "GET", "/api/def", ["abc", "fb"])), ["fb"]);
    assert.deepEqual(handlers(match(routes, "GET", "/api", ["abc", "fb"])), ["fb"]);
    assert.deepEqual(handlers(match(routes, "GET", "/apix", ["abc", "fb"])), []);
  });

  it("returns handlers in registration order, middleware included", () => {
    const routes: Route[] = [["GET", "/api/*"], ["GET", "/api"], ["GET", "/api/posts"], ["GET", "/api/*"]];
    const names = ["auth", "top", "posts", "fallback"];
    assert.deepEqual(handlers(match(routes, "GET", "/api", names)), ["auth", "top", "fallback"]);
    assert.deepEqual(handlers(match(routes, "GET", "/api/posts", names)), ["auth", "posts", "fallback"]);
    assert.deepEqual(handlers(match([["GET", "*"], ["GET", "/:type/:action"]], "GET", "/posts/123", ["mw", "h"])), [
      "mw",
      "h",
    ]);
    assert.deepEqual(handlers(match([["GET", "/:type/:action"], ["GET", "*"]], "GET", "/posts/123", ["h", "fb"])), [
      "h",
      "fb",
    ]);
  });

  it("blog: ALL and method middleware with per-handler params", () => {
    const routes: Route[] = [
      ["ALL", "*"],
      ["GET", "*"],
      ["GET", "/entry"],
      ["POST", "/entry/*"],
      ["POST", "/entry"],
      ["GET", "/entry/:id"],
      ["GET", "/entry/:id/comment/:comment_id"],
    ];
    const names = ["a", "b", "entries", "c", "post", "entry", "comment"];
    assert.deepEqual(match(routes, "GET", "/", names), [["a", {}], ["b", {}]]);
    assert.deepEqual(match(routes, "GET", "/entry/123/comment/456", names), [
      ["a", {}],
      ["b", {}],
      ["comment", { comment_id: "456", id: "123" }],
    ]);
    assert.deepEqual(handlers(match(routes, "POST", "/entry", names)), ["a", "c", "post"]);
    assert.deepEqual(handlers(match(routes, "DELETE", "/entry", names)), ["a"]);
  });

  it("params belong to each handler; duplicate names keep the first", () => {
    assert.deepEqual(match([["GET", "/:id/:id"]], "GET", "/123/456", ["f"]), [["f", { id: "123" }]]);
    assert.deepEqual(match([["GET", "/:id/:action"], ["GET", "/posts/:id"]], "GET", "/posts/get", ["f", "b"]), [
      ["f", { action: "get", id: "posts" }],
      ["b", { id: "get" }],
    ]);
    assert.deepEqual(
      match([["ALL", "*"], ["GET", "/entry/:id/*"], ["GET", "/entry/:id/:action"]], "GET", "/entry/123/show", [
        "a",
        "b",
        "c",
      ]),
      [["a", {}], ["b", { id: "123" }], ["c", { action: "show", id: "123" }]],
    );
  });

  it("stars: '/', '/*' and '*'", () => {
    const routes: Route[] = [["GET", "/"], ["GET", "/*"], ["GET", "*"], ["GET", "/x"], ["GET", "/x/*"]];
    const names = ["/", "/*", "*", "/x", "/x/*"];
    assert.deepEqual(handlers(match(routes, "GET", "/", names)), ["/", "/*", "*"]);
    assert.deepEqual(handlers(match(routes, "GET", "/x", names)), ["/*", "*", "/x", "/x/*"]);
  });

  it("optional params", () => {
    const routes: Route[] = [["GET", "/api/animals/:type?"], ["GET", "/v1/:version?/:platform?"]];
    const names = ["animals", "v1"];
    assert.deepEqual(match(routes, "GET", "/api/animals/dog", names), [["animals", { type: "dog" }]]);
    assert.deepEqual(match(routes, "GET", "/api/animals", names), [["animals", {}]]);
    assert.deepEqual(match(routes, "GET", "/v1/123/abc", names), [["v1", { platform: "abc", version: "123" }]]);
    assert.deepEqual(match(routes, "GET", "/v1", names), [["v1", {}]]);
  });

  it("trailing slashes are strict", () => {
    const routes: Route[] = [["GET", "/book"], ["GET", "/book/:id"]];
    assert.deepEqual(handlers(match(routes, "GET", "/book", ["b", "id"])), ["b"]);
    assert.deepEqual(match(routes, "GET", "/book/"), []);
  });

  it("host-name prefixed routes", () => {
    const routes: Route[] = [["GET", "www1.example.com/hello"], ["GET", "www2.example.com/hello"]];
    assert.deepEqual(handlers(match(routes, "GET", "www2.example.com/hello", ["1", "2"])), ["2"]);
    assert.deepEqual(match(routes, "GET", "/hello"), []);
  });

  it("interleaved ALL and GET stars", () => {
    const routes: Route[] = [["GET", "*"], ["ALL", "/x"], ["GET", "*"], ["GET", "*"]];
    assert.deepEqual(handlers(match(routes, "GET", "/x", ["s1", "x", "s2", "s3"])), ["s1", "x", "s2", "s3"]);
    const nested: Route[] = [["GET", "/y/*"], ["GET", "/y/a"], ["ALL", "/y/b/*"], ["GET", "/y/b/bar"]];
    assert.deepEqual(handlers(match(nested, "GET", "/y/b/bar", ["s1", "a", "s2", "bar"])), ["s1", "s2", "bar"]);
  });

  it("unknown methods only see ALL routes", () => {
    const routes: Route[] = [["GET", "/"], ["ALL", "/all"]];
    assert.deepEqual(match(routes, "UNKNOWN", "/"), []);
    assert.deepEqual(handlers(match(routes, "UNKNOWN", "/all", ["i", "all"])), ["all"]);
  });

  it("routes added after a match are seen", () => {
    const router = new AnyRouter<string>();
    router.add("GET", "/a", "a");
    assert.deepEqual(normalize(router.match("GET", "/a")), [["a", {}]]);
    router.add("ALL", "/a", "all");
    router.add("GET", "/b/:id", "b");
    assert.deepEqual(normalize(router.match("GET", "/a")), [["a", {}], ["all", {}]]);
    assert.deepEqual(normalize(router.match("GET", "/b/1")), [["b", { id: "1" }]]);
  });

  it("returns the same result object for static paths", () => {
    const router = build(new AnyRouter<string>(), [["ALL", "*"], ["GET", "/health"]]);
    assert.equal(router.match("GET", "/health"), router.match("GET", "/health"));
    assert.notEqual(router.match("GET", "/other"), router.match("GET", "/other"));
  });

  it("agrees with Hono's default router on seeded random route tables", () => {
    let seed = 20240605;
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    };
    const segments = ["a", "b", "users", ":id", ":name", ":n{[0-9]+}", ":f{[a-z]+\\.png}", ":x{(?:a|b)}"];
    const pathSegments = ["a", "b", "users", "1", "42", "x", "c.png"];
    let compared = 0;
    let nonEmpty = 0;
    for (let t = 0; t < 1500; t++) {
      const routes: Route[] = [];
      for (let i = 0, n = 1 + random(6); i < n; i++) {
        let path = "";
        for (let j = 0, len = random(4); j < len; j++) path += "/" + segments[random(segments.length)];
        if (random(4) === 0) path += "/*";
        if (path === "") path = random(2) === 0 ? "/" : "*";
        else if (random(8) === 0 && path.includes(":") && !path.endsWith("*") && !path.endsWith("}")) path += "?";
        routes.push([["GET", "POST", "ALL"][random(3)]!, path]);
      }
      for (let k = 0; k < 6; k++) {
        let path = "";
        for (let j = 0, len = random(4); j < len; j++) path += "/" + pathSegments[random(pathSegments.length)];
        if (path === "") path = "/";
        if (random(6) === 0) path += "/";
        const method = ["GET", "POST", "PUT"][random(3)]!;
        const expected = honoMatch(routes, method, path);
        assert.deepEqual(match(routes, method, path), expected, `${JSON.stringify(routes)} ${method} ${path}`);
        compared++;
        if (expected.length !== 0) nonEmpty++;
      }
    }
    assert.equal(compared, 9000);
    assert.ok(nonEmpty > 3000, `only ${nonEmpty} non-empty matches`);
  });
});

describe("new Hono({ router: new AnyRouter() })", () => {
  const text = async (app: Hono, path: string, init?: RequestInit) => {
    const res = await app.request(path, init);
    return `${res.status} ${await res.text()}`;
  };

  it("routes params, wildcards, regexp params and 404", async () => {
    const app = new Hono({ router: new AnyRouter() });
    app.get("/users/:id", (c) => c.text(`user ${c.req.param("id")}`));
    app.get("/files/:name{[a-z]+\\.png}", (c) => c.text(`png ${c.req.param("name")}`));
    app.get("/static/*", (c) => c.text(`static ${c.req.path}`));
    app.post("/users", (c) => c.text("created", 201));
    assert.equal(await text(app, "/users/42"), "200 user 42");
    assert.equal(await text(app, "/users/a%20b"), "200 user a b");
    assert.equal(await text(app, "/files/cat.png"), "200 png cat.png");
    assert.equal((await app.request("/files/cat.gif")).status, 404);
    assert.equal(await text(app, "/static/a/b.css"), "200 static /static/a/b.css");
    assert.equal(await text(app, "/users", { method: "POST" }), "201 created");
    assert.equal((await app.request("/users", { method: "PUT" })).status, 404);
  });

  it("runs middleware in registration order around handlers", async () => {
    const app = new Hono({ router: new AnyRouter() });
    const log: string[] = [];
    app.use(async (_c, next) => {
      log.push("global in");
      await next();
      log.push("global out");
    });
    app.use("/api/*", async (_c, next) => {
      log.push("api in");
      await next();
      log.push("api out");
    });
    app.get("/api/items/:id", (c) => {
      log.push(`handler ${c.req.param("id")}`);
      return c.text("ok");
    });
    app.use("/api/*", async (_c, next) => {
      log.push("late (not reached)");
      await next();
    });
    assert.equal(await text(app, "/api/items/7"), "200 ok");
    assert.deepEqual(log, ["global in", "api in", "handler 7", "api out", "global out"]);
  });

  it("mounts sub-apps with app.route and basePath", async () => {
    const books = new Hono();
    books.get("/", (c) => c.text("list"));
    books.get("/:id", (c) => c.text(`book ${c.req.param("id")}`));
    books.use("*", async (c, next) => {
      await next();
      c.header("x-books", "1");
    });
    const app = new Hono({ router: new AnyRouter() });
    app.route("/books", books);
    const v1 = new Hono({ router: new AnyRouter() }).basePath("/v1");
    v1.get("/ping", (c) => c.text("pong"));
    app.route("/", v1);
    assert.equal(await text(app, "/books"), "200 list");
    assert.equal(await text(app, "/books/3"), "200 book 3");
    assert.equal(await text(app, "/v1/ping"), "200 pong");
    assert.equal((await app.request("/books/3/x")).status, 404);
  });

  it("handles HEAD, strict trailing slashes and notFound", async () => {
    const app = new Hono({ router: new AnyRouter() });
    app.get("/page", (c) => c.text("body"));
    app.notFound((c) => c.text("custom 404", 404));
    const head = await app.request("/page", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    assert.equal(await text(app, "/page/"), "404 custom 404");
    const lax = new Hono({ router: new AnyRouter(), strict: false });
    lax.get("/page", (c) => c.text("body"));
    assert.equal(await text(lax, "/page/"), "200 body");
  });

  it("answers the same as Hono's default router for a mixed app", async () => {
    const setup = (app: Hono) => {
      app.use("*", async (c, next) => {
        await next();
        c.header("x-mw", "1");
      });
      app.get("/", (c) => c.text("root"));
      app.get("/posts/:id{[0-9]+}", (c) => c.json(c.req.param()));
      app.get("/posts/:slug", (c) => c.json(c.req.param()));
      app.all("/any/*", (c) => c.text(`any ${c.req.method}`));
      app.get("/v/:version?", (c) => c.json(c.req.param()));
      return app;
    };
    const ours = setup(new Hono({ router: new AnyRouter() }));
    const theirs = setup(new Hono());
    const paths = ["/", "/posts/1", "/posts/hello", "/any/x/y", "/v", "/v/2", "/nope", "/posts/"];
    for (const path of paths) {
      for (const method of ["GET", "POST"]) {
        const a = await ours.request(path, { method });
        const b = await theirs.request(path, { method });
        assert.equal(a.status, b.status, `${method} ${path}`);
        assert.equal(await a.text(), await b.text(), `${method} ${path}`);
        assert.equal(a.headers.get("x-mw"), b.headers.get("x-mw"), `${method} ${path}`);
      }
    }
  });
});
