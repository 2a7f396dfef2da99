/**
 * Router match throughput, side by side in one process:
 *   node_modules/.bin/node bench/router_bench.ts [--rounds N] [--ms M]
 *
 * Route table: a ~100-route REST API (static, param, nested params,
 * wildcards). Two lookup sets: static paths and param paths (each a mix of
 * one-, two- and three-param routes), all GET. Each router is measured for
 * `--rounds` rounds of `--ms` milliseconds per set, interleaved so JIT and GC
 * effects are spread evenly; the best round is reported as ops/s (lookups
 * per second) with the ratio to the fastest other router.
 */
import { RegExpRouter } from "hono/router/reg-exp-router";
import { TrieRouter } from "hono/router/trie-router";
import { PatternRouter } from "hono/router/pattern-router";
import FindMyWay from "find-my-way";
import { addRoute, createRouter, findRoute } from "rou3";
import { compileRouter } from "rou3/compiler";
import { AnyRouter, Router } from "../src/router/mod.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const ROUNDS = flag("--rounds", 5);
const ROUND_MS = flag("--ms", 300);

// --- route table -----------------------------------------------------------
const RESOURCES = ["users", "orders", "products", "invoices", "teams", "projects", "tickets", "payments"];
const routes: [method: string, path: string][] = [];
for (const r of RESOURCES) {
  routes.push(["GET", `/api/v1/${r}`]);
  routes.push(["POST", `/api/v1/${r}`]);
  routes.push(["GET", `/api/v1/search/${r}`]);
  routes.push(["GET", `/api/v1/${r}/:id`]);
  routes.push(["PUT", `/api/v1/${r}/:id`]);
  routes.push(["DELETE", `/api/v1/${r}/:id`]);
  routes.push(["GET", `/api/v1/${r}/:id/comments`]);
  routes.push(["POST", `/api/v1/${r}/:id/comments`]);
  routes.push(["GET", `/api/v1/${r}/:id/comments/:commentId`]);
  routes.push(["GET", `/api/v1/${r}/:id/history/:version/diff`]);
}
for (const path of [
  "/",
  "/health",
  "/ready",
  "/metrics",
  "/login",
  "/logout",
  "/signup",
  "/about",
  "/pricing",
  "/docs",
  "/docs/getting-started",
  "/docs/api-reference",
  "/blog",
  "/blog/:slug",
  "/tags/:tag",
  "/blog/:year/:month/:slug",
  "/static/*",
  "/assets/*",
  "/api/v1/me",
  "/api/v1/me/settings",
]) {
  routes.push(["GET", path]);
}
routes.push(["GET", "/api/v2/orgs/:org/repos/:repo/issues/:number"]);
routes.push(["GET", "/api/v2/orgs/:org/repos/:repo"]);

const STATIC_PATHS = [
  "/",
  "/health",
  "/docs/getting-started",
  "/api/v1/users",
  "/api/v1/search/orders",
  "/api/v1/me/settings",
  "/pricing",
  "/api/v1/payments",
];
const PARAM_PATHS = [
  "/api/v1/users/12345",
  "/api/v1/orders/98765/comments",
  "/api/v1/products/abc-123/comments/42",
  "/blog/hello-world",
  "/api/v1/tickets/7/history/3/diff",
  "/blog/2024/06/radix-trees",
  "/api/v2/orgs/acme/repos/anyserve/issues/5",
  "/api/v1/teams/core",
];

// --- routers -----------------------------------------------------------------
type Lookup = (path: string) => unknown;
const noop = () => new Response();

const fromHono = (router: { add(m: string, p: string, h: string): void; match(m: string, p: string): unknown }) => {
  for (const [m, p] of routes) router.add(m, p, `${m} ${p}`);
  return (path: string) => router.match("GET", path);
};

const anyRouter = new Router();
for (const [m, p] of routes) anyRouter.on(m, p, noop);

const fmw = FindMyWay();
for (const [m, p] of routes) fmw.on(m as "GET", p, noop);

const rou3 = createRouter<string>();
for (const [m, p] of routes) addRoute(rou3, m, p.replace(/\*$/, "**"), `${m} ${p}`);
const rou3Compiled = compileRouter(rou3);

const routers: [name: string, lookup: Lookup][] = [
  ["anyserve Router.find", (path) => anyRouter.find("GET", path)],
  ["anyserve AnyRouter (Hono iface)", fromHono(new AnyRouter<string>())],
  ["hono RegExpRouter", fromHono(new RegExpRouter<string>())],
  ["hono TrieRouter", fromHono(new TrieRouter<string>())],
  ["hono PatternRouter", fromHono(new PatternRouter<string>())],
  ["find-my-way", (path) => fmw.find("GET", path)],
  ["rou3 findRoute", (path) => findRoute(rou3, "GET", path)],
  ["rou3 compiled", (path) => rou3Compiled("GET", path)],
];

// Sanity: every router finds every lookup path.
for (const [name, lookup] of routers) {
  for (const path of [...STATIC_PATHS, ...PARAM_PATHS]) {
    const result = lookup(path) as unknown;
    const empty =
      result == null || (Array.isArray(result) && Array.isArray(result[0]) && result[0].length === 0);
    if (empty) throw new Error(`${name} does not match ${path}`);
  }
}

// --- measurement ---------------------------------------------------------------
let sink = 0;
function measure(lookup: Lookup, paths: string[], ms: number): number {
  const n = paths.length;
  let ops = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let r = 0; r < 1000; r++) {
      for (let i = 0; i < n; i++) if (lookup(paths[i]!) != null) sink++;
    }
    ops += 1000 * n;
    now = performance.now();
  } while (now - start < ms);
  return (ops / (now - start)) * 1000;
}

const sets: [label: string, paths: string[]][] = [
  ["static", STATIC_PATHS],
  ["param", PARAM_PATHS],
];
const best = new Map<string, number>();
for (const [, lookup] of routers) measure(lookup, [...STATIC_PATHS, ...PARAM_PATHS], 100); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, paths] of sets) {
    for (const [name, lookup] of routers) {
      const ops = measure(lookup, paths, ROUND_MS);
      const key = `${label}\u0000${name}`;
      best.set(key, Math.max(best.get(key) ?? 0, ops));
    }
  }
}

const runtime = typeof process !== "undefined" ? `node ${process.version}` : "unknown";
console.log(`Router match throughput (${routes.length} routes, ${runtime}, best of ${ROUNDS} x ${ROUND_MS} ms)\n`);
const fmt = (n: number) => `${(n / 1e6).toFixed(2)} M`;
for (const [label, paths] of sets) {
  const rows = routers.map(([name]) => [name, best.get(`${label}\u0000${name}`)!] as const);
  const fastestOther = Math.max(...rows.filter(([n]) => !n.startsWith("anyserve")).map(([, v]) => v));
  console.log(`### ${label} lookups (${paths.length} paths)\n`);
  console.log("| router | ops/s | vs fastest non-anyserve |");
  console.log("|---|---:|---:|");
  for (const [name, ops] of [...rows].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${name} | ${fmt(ops)} | ${(ops / fastestOther).toFixed(2)}x |`);
  }
  console.log("");
}
if (sink === 42) console.log("");
