import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  captureNames,
  expandOptional,
  isStatic,
  type MatchVisitor,
  parsePattern,
  RadixTree,
  TOKEN_PARAM,
  TOKEN_PATTERN,
  TOKEN_REST,
  TOKEN_STATIC,
  TOKEN_TAIL,
} from "./radix_tree.ts";

/** Builds a tree where each pattern's store is the pattern itself. */
function treeOf(...patterns: string[]): RadixTree<string> {
  const tree = new RadixTree<string>();
  for (const pattern of patterns) tree.insert(parsePattern(pattern), () => pattern);
  return tree;
}

/** First match and its captured values (as strings). */
function first(tree: RadixTree<string>, path: string): [string, string[]] | null {
  const found = tree.find(path);
  if (found === null) return null;
  const count = captureNames(parsePattern(found), "*").length;
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push(path.slice(tree.captures[2 * i], tree.captures[2 * i + 1]));
  return [found, values];
}

function every(tree: RadixTree<string>, path: string): string[] {
  const seen: string[] = [];
  const visitor: MatchVisitor<string> = { visit: (store) => void seen.push(store) };
  tree.findAll(path, visitor);
  return seen;
}

describe("parsePattern", () => {
  it("splits static text, params, patterns and wildcards", () => {
    assert.deepEqual(parsePattern("/users/:id/files/:name{[a-z]+\\.png}/*"), [
      { kind: TOKEN_STATIC, text: "/users/", source: "" },
      { kind: TOKEN_PARAM, text: "id", source: "" },
      { kind: TOKEN_STATIC, text: "/files/", source: "" },
      { kind: TOKEN_PATTERN, text: "name", source: "[a-z]+\\.png" },
      { kind: TOKEN_TAIL, text: "*", source: "" },
    ]);
  });

  it("keeps braces of quantifiers and slashes inside a pattern", () => {
    assert.deepEqual(parsePattern("/d/:year{[0-9]{4}}/:path{.+/x}"), [
      { kind: TOKEN_STATIC, text: "/d/", source: "" },
      { kind: TOKEN_PATTERN, text: "year", source: "[0-9]{4}" },
      { kind: TOKEN_STATIC, text: "/", source: "" },
      { kind: TOKEN_PATTERN, text: "path", source: ".+/x" },
    ]);
  });

  it("distinguishes tail, rest and mid-path stars", () => {
    assert.deepEqual(parsePattern("*"), [{ kind: TOKEN_REST, text: "*", source: "" }]);
    assert.deepEqual(parsePattern("/*"), [{ kind: TOKEN_TAIL, text: "*", source: "" }]);
    assert.deepEqual(parsePattern("/foo*"), [
      { kind: TOKEN_STATIC, text: "/foo", source: "" },
      { kind: TOKEN_REST, text: "*", source: "" },
    ]);
    assert.deepEqual(parsePattern("/a/*/b"), [
      { kind: TOKEN_STATIC, text: "/a/", source: "" },
      { kind: TOKEN_PARAM, text: "", source: "" },
      { kind: TOKEN_STATIC, text: "/b", source: "" },
    ]);
  });

  it("treats a colon inside a segment as static text", () => {
    assert.deepEqual(parsePattern("/a:b"), [{ kind: TOKEN_STATIC, text: "/a:b", source: "" }]);
  });

  it("rejects patterns it cannot represent", () => {
    assert.throws(() => parsePattern("/:id{[0-9]+}.json"), TypeError);
    assert.deepEqual(parsePattern("/:id.json")[1], { kind: TOKEN_PARAM, text: "id.json", source: "" });
    assert.throws(() => parsePattern("/a*b/c"), TypeError);
    assert.throws(() => parsePattern("/:id{[0-9]+"), TypeError);
    assert.throws(() => parsePattern("/:{x}"), TypeError);
    assert.throws(() => parsePattern("/:id{[}"), SyntaxError);
  });
});

describe("expandOptional", () => {
  it("expands trailing optional params shortest first", () => {
    assert.deepEqual(expandOptional("/api/animals/:type?"), ["/api/animals", "/api/animals/:type"]);
    assert.deepEqual(expandOptional("/v1/:version?/:platform?"), [
      "/v1",
      "/v1/:version",
      "/v1/:version/:platform",
    ]);
    assert.deepEqual(expandOptional("/:id?"), ["/", "/:id"]);
  });

  it("leaves other patterns alone", () => {
    assert.deepEqual(expandOptional("/users/:id"), ["/users/:id"]);
    assert.deepEqual(expandOptional("/what?"), ["/what?"]);
  });
});

describe("captureNames / isStatic", () => {
  it("names captures in order, blanking duplicates and unnamed ones", () => {
    assert.deepEqual(captureNames(parsePattern("/:id/:id/*/x/*"), "*"), ["id", "", "", "*"]);
    assert.deepEqual(captureNames(parsePattern("/a/*"), ""), [""]);
  });

  it("detects static patterns", () => {
    assert.equal(isStatic(parsePattern("/about/team")), true);
    assert.equal(isStatic(parsePattern("")), true);
    assert.equal(isStatic(parsePattern("/about/:x")), false);
    assert.equal(isStatic(parsePattern("/about/*")), false);
  });
});

describe("RadixTree.find", () => {
  it("matches static paths sharing prefixes", () => {
    const tree = treeOf("/users", "/users/list", "/user", "/usage", "/");
    assert.deepEqual(first(tree, "/users"), ["/users", []]);
    assert.deepEqual(first(tree, "/users/list"), ["/users/list", []]);
    assert.deepEqual(first(tree, "/user"), ["/user", []]);
    assert.deepEqual(first(tree, "/usage"), ["/usage", []]);
    assert.deepEqual(first(tree, "/"), ["/", []]);
    assert.equal(tree.find("/use"), null);
    assert.equal(tree.find("/users/"), null);
    assert.equal(tree.find("/userss"), null);
  });

  it("captures params as offsets", () => {
    const tree = treeOf("/users/:id", "/users/:id/posts/:post");
    assert.deepEqual(first(tree, "/users/42"), ["/users/:id", ["42"]]);
    assert.deepEqual(first(tree, "/users/42/posts/7"), ["/users/:id/posts/:post", ["42", "7"]]);
    assert.equal(tree.find("/users/"), null);
    assert.equal(tree.find("/users/42/posts"), null);
    assert.equal(tree.find("/users/42/posts/7/8"), null);
  });

  it("prefers static over pattern over param over wildcard, whatever the order", () => {
    const orders = [
      ["/f/*", "/f/:id", "/f/:n{[0-9]+}", "/f/new"],
      ["/f/new", "/f/:n{[0-9]+}", "/f/:id", "/f/*"],
      ["/f/:id", "/f/new", "/f/*", "/f/:n{[0-9]+}"],
    ];
    for (const patterns of orders) {
      const tree = treeOf(...patterns);
      assert.equal(tree.find("/f/new"), "/f/new");
      assert.equal(tree.find("/f/12"), "/f/:n{[0-9]+}");
      assert.equal(tree.find("/f/abc"), "/f/:id");
      assert.equal(tree.find("/f/a/b"), "/f/*");
      assert.equal(tree.find("/f"), "/f/*");
    }
  });

  it("backtracks from a static branch to a param branch", () => {
    const tree = treeOf("/a/static/x", "/a/:p/y", "/a/*");
    assert.deepEqual(first(tree, "/a/static/y"), ["/a/:p/y", ["static"]]);
    assert.deepEqual(first(tree, "/a/static/z"), ["/a/*", ["static/z"]]);
    assert.deepEqual(first(tree, "/a/static/x"), ["/a/static/x", []]);
  });

  it("tail wildcard matches the bare prefix, a slash, and anything below", () => {
    const tree = treeOf("/static/*");
    assert.deepEqual(first(tree, "/static"), ["/static/*", [""]]);
    assert.deepEqual(first(tree, "/static/"), ["/static/*", [""]]);
    assert.deepEqual(first(tree, "/static/css/app.css"), ["/static/*", ["css/app.css"]]);
    assert.equal(tree.find("/statics"), null);
  });

  it("rest wildcard matches any continuation", () => {
    const tree = treeOf("/foo*", "*");
    assert.deepEqual(first(tree, "/foobar/baz"), ["/foo*", ["bar/baz"]]);
    assert.deepEqual(first(tree, "/other"), ["*", ["/other"]]);
  });

  it("pattern params are anchored and may span slashes", () => {
    const tree = treeOf("/files/:name{[a-z]+\\.png}", "/js/:file{[a-z0-9/]+\\.js}", "/d/:p{.+}/end");
    assert.deepEqual(first(tree, "/files/cat.png"), ["/files/:name{[a-z]+\\.png}", ["cat.png"]]);
    assert.equal(tree.find("/files/cat.png.exe"), null);
    assert.equal(tree.find("/files/Cat.png"), null);
    assert.deepEqual(first(tree, "/js/a/b/c.js"), ["/js/:file{[a-z0-9/]+\\.js}", ["a/b/c.js"]]);
    assert.deepEqual(first(tree, "/d/x/y/end"), ["/d/:p{.+}/end", ["x/y"]]);
  });

  it("unnamed mid-path star matches one non-empty segment", () => {
    const tree = treeOf("/wild/*/card");
    assert.deepEqual(first(tree, "/wild/x/card"), ["/wild/*/card", ["x"]]);
    assert.equal(tree.find("/wild//card"), null);
    assert.equal(tree.find("/wild/x/y/card"), null);
  });

  it("insert passes the existing store to update", () => {
    const tree = new RadixTree<string[]>();
    const add = (pattern: string) =>
      tree.insert(parsePattern(pattern), (existing) => [...(existing ?? []), pattern]);
    add("/x/:a");
    add("/x/:b");
    assert.deepEqual(tree.find("/x/1"), ["/x/:a", "/x/:b"]);
  });
});

describe("RadixTree.findAll", () => {
  it("visits every matching pattern, static first", () => {
    const tree = treeOf("*", "/a/*", "/a/:id", "/a/b", "/:x/b");
    assert.deepEqual(every(tree, "/a/b"), ["/a/b", "/a/:id", "/a/*", "/:x/b", "*"]);
    assert.deepEqual(every(tree, "/c"), ["*"]);
    assert.deepEqual(every(tree, "/a"), ["/a/*", "*"]);
  });

  it("visits every way a pattern param can split the path, longest first", () => {
    const tree = treeOf("/d/:p{.+}/:q{.+}");
    const captures: string[] = [];
    tree.findAll("/d/1/2/3", {
      visit: (_store, path, caps) => {
        captures.push(`${path.slice(caps[0], caps[1])}|${path.slice(caps[2], caps[3])}`);
      },
    });
    assert.deepEqual(captures, ["1/2|3", "1|2/3"]);
  });
});
