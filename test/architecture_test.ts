/**
 * The dependency rule, enforced: `src/` imports only `src/` (no `node:*`,
 * no npm packages, no `Deno`/`Bun` globals); an adapter imports `src/` and
 * its own runtime, never another adapter; only the Node-API runtimes (Node,
 * Bun) import `adapters/_node_api/`; `src/router/` depends on nothing else
 * in `src/`; and no module imports itself through a circle of others.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return p.endsWith(".ts") && !p.endsWith("_test.ts") ? [p] : [];
  });
}

/** Import and export-from specifiers of a module, resolved to repo paths when relative. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*["']([^"']+)["']/g), ...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)]
    .map((m) => m[1]);
  return specs.map((s) => (s.startsWith(".") ? relative(ROOT, resolve(dirname(file), s)) : s));
}

/**
 * The one npm import src/ may make, and where: the Hono integration builds
 * its `upgradeWebSocket` with Hono's own `defineWebSocketHelper` and
 * `WSContext` (`hono/ws`, no runtime API in it); Hono is the app's own
 * dependency (a peer of the package), and nothing else imports src/hono.ts.
 */
const SRC_NPM: Record<string, string[]> = { "src/hono.ts": ["hono/ws"] };

test("src/ imports nothing but src/ and uses no runtime global", () => {
  for (const f of files(join(ROOT, "src"))) {
    const rel = relative(ROOT, f);
    for (const spec of imports(f)) {
      if (SRC_NPM[rel]?.includes(spec)) continue;
      assert.ok(spec.startsWith("src/"), `${rel} imports "${spec}": src/ may import only src/`);
    }
    const code = readFileSync(f, "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    assert.doesNotMatch(code, /\b(Deno|Bun)\s*\./, `${rel} touches a runtime global`);
    assert.doesNotMatch(code, /\bprocess\s*\.\s*(env|on|exit|argv)/, `${rel} touches Node's process`);
  }
});

/** The runtimes with an adapter: `adapters/<name>.ts` is the entry, `adapters/<name>/` what only it needs. */
const ADAPTERS = ["node", "deno", "bun"];
/** Adapter-private code shared by the runtimes that implement Node's APIs (`process`, its IPC), and who may use it. */
const NODE_API = "adapters/_node_api/";
const NODE_API_USERS = ["node", "bun"];
/**
 * Files of `_node_api/` every adapter may use, with the reason: the
 * WebSocket deflate codec needs only `node:zlib`, which Deno implements as
 * well (with the sync flush it uses), so Deno gets compression from the same
 * code instead of a copy.
 */
const NODE_API_SHARED = ["adapters/_node_api/ws_deflate.ts"];

/** The adapter a file under adapters/ belongs to ("" for shared files). */
function adapterOf(rel: string): string {
  return ADAPTERS.find((a) => rel === `adapters/${a}.ts` || rel.startsWith(`adapters/${a}/`)) ?? "";
}

test("an adapter never imports another adapter", () => {
  for (const f of files(join(ROOT, "adapters"))) {
    const rel = relative(ROOT, f);
    const own = adapterOf(rel);
    for (const spec of imports(f)) {
      const other = adapterOf(spec);
      assert.ok(other === "" || other === own, `${rel} imports another adapter: "${spec}"`);
    }
  }
});

test("only Node-API runtimes import adapters/_node_api/", () => {
  for (const f of files(join(ROOT, "adapters"))) {
    const rel = relative(ROOT, f);
    if (rel.startsWith(NODE_API)) continue;
    const own = adapterOf(rel);
    for (const spec of imports(f)) {
      if (!spec.startsWith(NODE_API) || NODE_API_SHARED.includes(spec)) continue;
      assert.ok(NODE_API_USERS.includes(own), `${rel} imports "${spec}": only ${NODE_API_USERS.join(" and ")} may use ${NODE_API}`);
    }
  }
});

/** The circles in an import graph: each strongly connected component of more than one module (or a module importing itself). */
function importCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm (recursive: import chains here are a few dozen deep at most).
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** One circle through `members`, as `a -> b -> ... -> a`, for the message. */
function circleThrough(graph: Map<string, string[]>, members: string[]): string {
  const inside = new Set(members);
  const start = members[0];
  // Breadth-first from start back to start, staying inside the component.
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = from.get(u)) path.splice(1, 0, u);
        return [...path, start].join(" -> ");
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return members.join(", ");
}

/** The import graph of the library's own modules (src/, adapters/, mod.ts), type-only imports included. */
function moduleGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of [...files(join(ROOT, "src")), ...files(join(ROOT, "adapters")), join(ROOT, "mod.ts"), join(ROOT, "cli.ts")]) {
    graph.set(relative(ROOT, f), imports(f).filter((s) => s.endsWith(".ts")));
  }
  return graph;
}

test("no import cycle under src/ or adapters/", () => {
  const graph = moduleGraph();
  const cycles = importCycles(graph);
  assert.deepEqual(
    cycles.map((c) => circleThrough(graph, c)),
    [],
    `import cycles (each line is one circle; break it by moving what both sides need into a module of its own)`,
  );
});

test("the cycle check finds a circle and names its modules", () => {
  const graph = new Map([
    ["src/a.ts", ["src/b.ts"]],
    ["src/b.ts", ["src/c.ts", "src/d.ts"]],
    ["src/c.ts", ["src/a.ts"]],
    ["src/d.ts", []],
  ]);
  const cycles = importCycles(graph);
  assert.deepEqual(cycles, [["src/a.ts", "src/b.ts", "src/c.ts"]]);
  assert.equal(circleThrough(graph, cycles[0]), "src/a.ts -> src/b.ts -> src/c.ts -> src/a.ts");
});

test("src/router/ depends on nothing else in src/", () => {
  for (const f of files(join(ROOT, "src/router"))) {
    for (const spec of imports(f)) {
      assert.ok(spec.startsWith("src/router/"), `${relative(ROOT, f)} imports "${spec}"`);
    }
  }
});

test("cli.ts binds the command to the runtime through mod.ts, src/ and node: built-ins only", () => {
  for (const spec of imports(join(ROOT, "cli.ts"))) {
    assert.ok(spec === "mod.ts" || spec.startsWith("src/") || spec.startsWith("node:"), `cli.ts imports "${spec}"`);
  }
});
