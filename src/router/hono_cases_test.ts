/**
 * The routing facts Hono's own routers are tested against (honojs/hono,
 * `src/router/common.case.test.ts`, the cases every Hono router passes),
 * restated as a table and run against `AnyRouter`.
 *
 * A case registers routes `[method, path, handler]` on a fresh router, then
 * matches requests: `[method, path, expected]`, where `expected` lists the
 * handlers in order, each with the params to check (`undefined` = absent).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AnyRouter } from "./mod.ts";

type Expect = [handler: string, params?: Record<string, string | undefined>][];
interface Case {
  name: string;
  routes: [string, string, string][];
  requests: [string, string, Expect][];
}

const CASES: Case[] = [
  {
    name: "methods, custom ones too",
    routes: [["GET", "/hello", "get"], ["POST", "/hello", "post"], ["PURGE", "/hello", "purge"]],
    requests: [["GET", "/hello", [["get"]]], ["POST", "/hello", [["post"]]], ["PURGE", "/hello", [["purge"]]], ["PUT", "/hello", []], ["GET", "/", []]],
  },
  { name: "param named like an Object.prototype key", routes: [["GET", "/entry/:constructor", "e"]], requests: [["GET", "/entry/123", [["e", { constructor: "123" }]]]] },
  { name: "wildcard matching an Object.prototype key", routes: [["GET", "/wild/*/card", "w"]], requests: [["GET", "/wild/constructor/card", [["w"]]]] },
  { name: "optional param named like an Object.prototype key", routes: [["GET", "/api/animals/:constructor?", "a"]], requests: [["GET", "/api/animals", [["a", { constructor: undefined }]]]] },
  { name: "named param", routes: [["GET", "/entry/:id", "e"]], requests: [["GET", "/entry/123", [["e", { id: "123" }]]], ["GET", "/entry-123", []]] },
  { name: "wildcard in the middle", routes: [["GET", "/wild/*/card", "w"]], requests: [["GET", "/wild/xxx/card", [["w"]]]] },
  {
    name: "static before its fallback",
    routes: [["GET", "/api/abc", "api"], ["GET", "/api/*", "fallback"]],
    requests: [["GET", "/api/abc", [["api"], ["fallback"]]], ["GET", "/api/def", [["fallback"]]]],
  },
  {
    name: "params with patterns",
    routes: [["GET", "/post/:date{[0-9]+}/:title{[a-z]+}", "p"]],
    requests: [["GET", "/post/20210101/hello", [["p", { date: "20210101", title: "hello" }]]], ["GET", "/post/onetwothree", []], ["GET", "/post/123/123", []]],
  },
  {
    name: "param with the {.*} pattern, an empty last segment included",
    routes: [["GET", "/files/:name{.*}", "file"]],
    requests: [["GET", "/files", []], ["GET", "/files/a", [["file", { name: "a" }]]], ["GET", "/files/a/b", [["file", { name: "a/b" }]]], ["GET", "/files/", [["file", { name: "" }]]]],
  },
  {
    name: "/* around statics, in registration order",
    routes: [["GET", "/api/*", "auth"], ["GET", "/api", "top"], ["GET", "/api/posts", "posts"], ["GET", "/api/*", "fallback"]],
    requests: [["GET", "/api", [["auth"], ["top"], ["fallback"]]], ["GET", "/api/posts", [["auth"], ["posts"], ["fallback"]]]],
  },
  { name: "middleware then handler", routes: [["GET", "*", "bar"], ["GET", "/:type/:action", "foo"]], requests: [["GET", "/posts/123", [["bar"], ["foo"]]]] },
  { name: "handler then fallback", routes: [["GET", "/:type/:action", "foo"], ["GET", "*", "fallback"]], requests: [["GET", "/posts/123", [["foo"], ["fallback"]]]] },
  {
    name: "blog: several matches per request",
    routes: [
      ["ALL", "*", "mw a"], ["GET", "*", "mw b"], ["GET", "/entry", "entries"], ["POST", "/entry/*", "mw c"],
      ["POST", "/entry", "post entry"], ["GET", "/entry/:id", "entry"], ["GET", "/entry/:id/comment/:comment_id", "comment"],
    ],
    requests: [
      ["GET", "/", [["mw a"], ["mw b"]]],
      ["GET", "/entry/123", [["mw a", { id: undefined }], ["mw b", { id: undefined }], ["entry", { id: "123" }]]],
      ["GET", "/entry/123/comment/456", [["mw a", { id: undefined, comment_id: undefined }], ["mw b", { id: undefined, comment_id: undefined }], ["comment", { id: "123", comment_id: "456" }]]],
      ["POST", "/entry", [["mw a"], ["mw c"], ["post entry"]]],
      ["DELETE", "/entry", [["mw a"]]],
    ],
  },
  {
    name: "params per handler",
    routes: [["ALL", "*", "mw a"], ["GET", "/entry/:id/*", "mw b"], ["GET", "/entry/:id/:action", "action"]],
    requests: [["GET", "/entry/123/show", [["mw a", { id: undefined, action: undefined }], ["mw b", { id: "123", comment_id: undefined }], ["action", { id: "123", action: "show" }]]]],
  },
  { name: "no match does not throw", routes: [["GET", "/posts/:id/comments/:comment_id", "foo"], ["GET", "/posts/:id", "bar"]], requests: [["GET", "/", []]] },
  { name: "a param name twice in one route: the first value", routes: [["GET", "/:id/:id", "foo"]], requests: [["GET", "/123/456", [["foo", { id: "123" }]]]] },
  {
    name: "same param name in a parent route",
    routes: [["GET", "/:id/:action", "foo"], ["GET", "/posts/:id", "bar"]],
    requests: [["GET", "/posts/get", [["foo", { id: "posts", action: "get" }], ["bar", { id: "get" }]]]],
  },
  {
    name: "same param name in a child route",
    routes: [["GET", "/posts/:id", "foo"], ["GET", "/:id/:action", "bar"]],
    requests: [["GET", "/posts/get", [["foo", { id: "get" }], ["bar", { id: "posts", action: "get" }]]]],
  },
  { name: "page then ALL fallback", routes: [["GET", "/page", "page"], ["ALL", "*", "fallback"]], requests: [["GET", "/page", [["page"], ["fallback"]]]] },
  {
    name: "stars",
    routes: [["GET", "/", "/"], ["GET", "/*", "/*"], ["GET", "*", "*"], ["GET", "/x", "/x"], ["GET", "/x/*", "/x/*"]],
    requests: [["GET", "/", [["/"], ["/*"], ["*"]]], ["GET", "/x", [["/*"], ["*"], ["/x"], ["/x/*"]]]],
  },
  {
    name: "suffix wildcard",
    routes: [["GET", "/assets*", "assets"]],
    requests: [["GET", "/assets", [["assets"]]], ["GET", "/assets-v2", [["assets"]]], ["GET", "/assets/app.js", [["assets"]]], ["GET", "/asset", []]],
  },
  { name: "suffix wildcard before a static", routes: [["POST", "/assets*", "a"], ["POST", "/assets/app.js", "b"]], requests: [["POST", "/assets/app.js", [["a"], ["b"]]]] },
  { name: "static before a suffix wildcard", routes: [["POST", "/assets/app.js", "a"], ["POST", "/assets*", "b"]], requests: [["POST", "/assets/app.js", [["a"], ["b"]]]] },
  {
    name: "trailing wildcard",
    routes: [["GET", "/path/*", "path"]],
    requests: [["GET", "/path", [["path"]]], ["GET", "/path/to/file", [["path"]]], ["GET", "/pathfoo", []]],
  },
  {
    name: "trailing wildcard after a middle one",
    routes: [["GET", "/a/*/b/*", "b"]],
    requests: [["GET", "/a/x/b", [["b"]]], ["GET", "/a/x/b/c", [["b"]]], ["GET", "/a/x/bz", []]],
  },
  {
    name: "optional params",
    routes: [["GET", "/api/animals/:type?", "animals"], ["GET", "/v1/:version?/:platform?", "result"]],
    requests: [
      ["GET", "/api/animals/dog", [["animals", { type: "dog" }]]],
      ["GET", "/api/animals", [["animals", { type: undefined }]]],
      ["GET", "/v1/123/abc", [["result", { version: "123", platform: "abc" }]]],
      ["GET", "/v1/123", [["result", { version: "123", platform: undefined }]]],
      ["GET", "/v1", [["result", { version: undefined, platform: undefined }]]],
    ],
  },
  { name: "ALL route on GET", routes: [["GET", "/hello", "hello"], ["ALL", "/all", "all"]], requests: [["GET", "/all", [["all"]]]] },
  {
    name: "long prefix, then star (GET only)",
    routes: [["GET", "/long/prefix/*", "long-prefix"], ["GET", "/long/*", "long"], ["GET", "*", "star1"], ["GET", "*", "star2"]],
    requests: [
      ["GET", "/", [["star1"], ["star2"]]],
      ["GET", "/long/prefix", [["long-prefix"], ["long"], ["star1"], ["star2"]]],
      ["GET", "/long/prefix/test", [["long-prefix"], ["long"], ["star1"], ["star2"]]],
    ],
  },
  {
    name: "long prefix, then star (ALL and GET)",
    routes: [["ALL", "/long/prefix/*", "long-prefix"], ["ALL", "/long/*", "long"], ["GET", "*", "star1"], ["GET", "*", "star2"]],
    requests: [
      ["GET", "/", [["star1"], ["star2"]]],
      ["GET", "/long/prefix", [["long-prefix"], ["long"], ["star1"], ["star2"]]],
      ["GET", "/long/prefix/test", [["long-prefix"], ["long"], ["star1"], ["star2"]]],
    ],
  },
  {
    name: "pattern including slashes, with a static sibling",
    routes: [["GET", "/js/:filename{[a-z0-9/]+.js}", "any"], ["GET", "/js/main.js", "main"]],
    requests: [["GET", "/js/main.js", [["any", { filename: "main.js" }], ["main", { filename: undefined }]]]],
  },
  {
    name: "pattern including slashes",
    routes: [["GET", "/js/:filename{[a-z0-9/]+.js}", "any"]],
    requests: [["GET", "/js/chunk/123.js", [["any", { filename: "chunk/123.js" }]]], ["GET", "/js/chunk/nest/123.js", [["any", { filename: "chunk/nest/123.js" }]]]],
  },
  {
    name: "{.+} over several directories",
    routes: [["GET", "/:dirs{.+}/file.html", "f"]],
    requests: [
      ["GET", "/foo/bar/file.html", [["f", { dirs: "foo/bar" }]]],
      ["GET", "/foo/bar/baz/file.html", [["f", { dirs: "foo/bar/baz" }]]],
      ["GET", "/a/b/c/d/file.html", [["f", { dirs: "a/b/c/d" }]]],
    ],
  },
  { name: "pattern param then a middle wildcard", routes: [["GET", "/:dir{[a-z]+}/*/file.html", "f"]], requests: [["GET", "/foo/bar/file.html", [["f", { dir: "foo" }]]]] },
  { name: "pattern param then a trailing wildcard on an empty rest", routes: [["GET", "/:id{[0-9]+}/*", "r"]], requests: [["GET", "/123", [["r", { id: "123" }]]]] },
  {
    name: "pattern param then a trailing wildcard, with a static sibling",
    routes: [["GET", "/regex-abc/:id{[0-9]+}/*", "mw"], ["GET", "/regex-abc/:id{[0-9]+}/def", "r"]],
    requests: [["GET", "/regex-abc/123/ghi", [["mw", { id: "123" }]]]],
  },
  {
    name: "{.+} then different tails",
    routes: [["GET", "/:first{.+}/middle-a/:reference?", "1"], ["GET", "/:first{.+}/middle-b/end-c/:uuid", "2"], ["GET", "/:first{.+}/middle-b/:digest", "3"]],
    requests: [
      ["GET", "/part1/middle-b/latest", [["3", { first: "part1", digest: "latest" }]]],
      ["GET", "/part1/middle-b/end-c/latest", [["2", { first: "part1", uuid: "latest" }]]],
    ],
  },
  {
    name: "{.+} then an optional param",
    routes: [["GET", "/:prefix{.+}/contents/:id?", "c"]],
    requests: [["GET", "/foo/bar/contents", [["c", { prefix: "foo/bar", id: undefined }]]], ["GET", "/foo/bar/contents/123", [["c", { prefix: "foo/bar", id: "123" }]]]],
  },
  {
    name: "regexp metacharacters in static parts",
    routes: [["ALL", "/$/*", "mw $"], ["GET", "/$/:name", "get $"], ["ALL", "/()/*", "mw ()"], ["GET", "/()/:name", "get ()"]],
    requests: [["GET", "/$/hono", [["mw $", {}], ["get $", { name: "hono" }]]], ["GET", "/()/hono", [["mw ()", {}], ["get ()", { name: "hono" }]]]],
  },
  {
    name: "pattern param with a static child",
    routes: [["GET", "/users/:username{[a-z]+}", "profile"], ["GET", "/users/:username{[a-z]+}/posts", "posts"]],
    requests: [["GET", "/users/hono", [["profile"]]], ["GET", "/users/hono/posts", [["posts"]]]],
  },
  { name: "trailing slash is a different path", routes: [["GET", "/book", "book"], ["GET", "/book/:id", "id"]], requests: [["GET", "/book", [["book"]]], ["GET", "/book/", []]] },
  { name: "same path twice", routes: [["GET", "/hey", "A"], ["GET", "/hey", "B"]], requests: [["GET", "/hey", [["A"], ["B"]]]] },
  {
    name: "paths with a hostname",
    routes: [["GET", "www1.example.com/hello", "www1"], ["GET", "www2.example.com/hello", "www2"]],
    requests: [["GET", "www1.example.com/hello", [["www1"]]], ["GET", "www2.example.com/hello", [["www2"]]], ["GET", "/hello", []]],
  },
  { name: "static ALL and GET routes", routes: [["ALL", "/foo", "foo"], ["GET", "/bar", "bar"]], requests: [["GET", "/foo", [["foo"]]]] },
  { name: "ALL static then GET star", routes: [["ALL", "/x", "/x"], ["GET", "*", "star"]], requests: [["GET", "/x", [["/x"], ["star"]]]] },
  {
    name: "GET star, ALL static, GET stars",
    routes: [["GET", "*", "star1"], ["ALL", "/x", "/x"], ["GET", "*", "star2"], ["GET", "*", "star3"]],
    requests: [["GET", "/x", [["star1"], ["/x"], ["star2"], ["star3"]]]],
  },
  {
    name: "GET star, GET static, ALL star, GET static (honojs/hono#699)",
    routes: [["GET", "/y/*", "star1"], ["GET", "/y/a", "a"], ["ALL", "/y/b/*", "star2"], ["GET", "/y/b/bar", "bar"]],
    requests: [["GET", "/y/b/bar", [["star1"], ["star2"], ["bar"]]]],
  },
  {
    name: "ALL stars and GET statics",
    routes: [["ALL", "*", "wildcard"], ["ALL", "/a/*", "star1"], ["GET", "/a/foo", "foo"], ["ALL", "/b/*", "star2"], ["GET", "/b/bar", "bar"]],
    requests: [["GET", "/b/bar", [["wildcard"], ["star2"], ["bar"]]]],
  },
  {
    name: "capturing group in a pattern (lower-case method)",
    routes: [["get", "/foo/:capture{(bar|baz)}", "ok"]],
    requests: [["get", "/foo/bar", [["ok", { capture: "bar" }]]], ["get", "/foo/baz", [["ok", { capture: "baz" }]]], ["get", "/foo/qux", []]],
  },
  {
    name: "non-capturing group in a pattern",
    routes: [["get", "/foo/:capture{(?:bar|baz)}", "ok"]],
    requests: [["get", "/foo/bar", [["ok", { capture: "bar" }]]], ["get", "/foo/baz", [["ok", { capture: "baz" }]]], ["get", "/foo/qux", []]],
  },
  {
    name: "non-capturing group after a prefix",
    routes: [["get", "/foo/:capture{ba(?:r|z)}", "ok"]],
    requests: [["get", "/foo/bar", [["ok", { capture: "bar" }]]], ["get", "/foo/baz", [["ok", { capture: "baz" }]]], ["get", "/foo/qux", []]],
  },
  { name: "capturing group after a prefix", routes: [["get", "/foo/:capture{ba(r|z)}", "ok"]], requests: [["get", "/foo/bar", [["ok"]]]] },
  {
    name: "unknown method",
    routes: [["GET", "/", "index"], ["ALL", "/all", "all"]],
    requests: [["UNKNOWN_METHOD", "/", []], ["UNKNOWN_METHOD", "/all", [["all"]]]],
  },
];

describe("AnyRouter passes Hono's router cases", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const router = new AnyRouter<string>();
      for (const [method, path, handler] of c.routes) router.add(method, path, handler);
      for (const [method, path, expected] of c.requests) {
        const [matches] = router.match(method, path);
        const where = `${method} ${path}`;
        assert.deepEqual(matches.map(([h]) => h), expected.map(([h]) => h), `${where}: handlers`);
        expected.forEach(([, params], k) => {
          if (params === undefined) return;
          const got = matches[k]![1] as Record<string, string>;
          if (Object.keys(params).length === 0) assert.deepEqual({ ...got }, {}, `${where}: #${k} has no params`);
          for (const [name, value] of Object.entries(params)) assert.equal(got[name], value, `${where}: #${k} param ${name}`);
        });
      }
    });
  }
});

describe("AnyRouter in a Hono app", () => {
  it("/files/:name{.*} gives name \"\" on /files/, as Hono's routers do", async () => {
    const { Hono } = await import("hono");
    const app = new Hono({ router: new AnyRouter() });
    app.get("/files/:name{.*}", (c) => c.json({ name: c.req.param("name") }));
    assert.deepEqual(await (await app.request("/files/")).json(), { name: "" });
    assert.deepEqual(await (await app.request("/files/a/b")).json(), { name: "a/b" });
    assert.equal((await app.request("/files")).status, 404);
  });
});
