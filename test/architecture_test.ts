/**
 * The dependency rule, enforced: `src/` imports only `src/` (no `node:*`,
 * no npm packages, no `Deno`/`Bun` globals); an adapter imports `src/` and
 * its own runtime, never another adapter; `src/router/` depends on nothing
 * else in `src/`.
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

test("src/ imports nothing but src/ and uses no runtime global", () => {
  for (const f of files(join(ROOT, "src"))) {
    const rel = relative(ROOT, f);
    for (const spec of imports(f)) {
      assert.ok(spec.startsWith("src/"), `${rel} imports "${spec}": src/ may import only src/`);
    }
    const code = readFileSync(f, "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    assert.doesNotMatch(code, /\b(Deno|Bun)\s*\./, `${rel} touches a runtime global`);
    assert.doesNotMatch(code, /\bprocess\s*\.\s*(env|on|exit|argv)/, `${rel} touches Node's process`);
  }
});

test("an adapter never imports another adapter", () => {
  const adapters = ["node", "deno", "bun"];
  for (const f of files(join(ROOT, "adapters"))) {
    const rel = relative(ROOT, f);
    const own = adapters.find((a) => rel.startsWith(`adapters/${a}`) || rel.startsWith(`adapters/_types/${a}`)) ?? "";
    for (const spec of imports(f)) {
      for (const other of adapters.filter((a) => a !== own)) {
        assert.ok(!spec.startsWith(`adapters/${other}`), `${rel} imports another adapter: "${spec}"`);
      }
    }
  }
});

test("src/router/ depends on nothing else in src/", () => {
  for (const f of files(join(ROOT, "src/router"))) {
    for (const spec of imports(f)) {
      assert.ok(spec.startsWith("src/router/"), `${relative(ROOT, f)} imports "${spec}"`);
    }
  }
});
