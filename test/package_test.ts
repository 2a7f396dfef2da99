/**
 * The npm package as users get it: `npm pack` (which builds with tsup),
 * install the tarball into a fresh project, then import it and serve one
 * request on Node 20 (the system node, CJS and ESM), Node 24, Bun and Deno.
 * Runs under Node's runner only: it drives the other runtimes itself.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readFileSync } from "node:fs";

const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);
const root = resolve(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

const ESM = `
import { serve } from "anyserve";
import { Router } from "anyserve/router";
const router = new Router();
router.get("/x/:id", (_req, p) => new Response("packed " + p.id));
const server = serve({ fetch: router.fetch, port: 0, hostname: "127.0.0.1" });
await server.ready;
const r = await fetch(\`http://127.0.0.1:\${server.port}/x/7\`);
console.log(await r.text());
await server.close();
`;

const CJS = `
const { serve } = require("anyserve");
const server = serve({ fetch: () => new Response("packed cjs"), port: 0, hostname: "127.0.0.1" });
server.ready.then(async () => {
  const r = await fetch("http://127.0.0.1:" + server.port + "/");
  console.log(await r.text());
  await server.close();
});
`;

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, unknown> };
const denoJson = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> };
const subpaths = Object.keys(pkg.exports);

/** Prints, as JSON, every runtime-visible name each subpath exports: `{ ".": [...], "./node": [...] }`. */
const namesScript = (load: (spec: string) => string) => `
const out = {};
${subpaths.map((sp) => `out[${JSON.stringify(sp)}] = Object.keys(${load(sp === "." ? "anyserve" : "anyserve" + sp.slice(1))}).filter((k) => k !== "__esModule").sort();`).join("\n")}
console.log(JSON.stringify(out));
`;
const ESM_NAMES = namesScript((spec) => `await import(${JSON.stringify(spec)})`);
const CJS_NAMES = namesScript((spec) => `require(${JSON.stringify(spec)})`);

describe("npm package", { skip: isNode ? false : "drives every runtime itself; runs under Node's runner only" }, () => {
  let dir = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "anyserve-pack-"));
    const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const tarball = join(dir, out.trim().split("\n").pop()!);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", tarball], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    // Hono is a peer dependency (anyserve/hono builds on hono/ws): the consumer brings its own; here, ours.
    symlinkSync(join(root, "node_modules", "hono"), join(dir, "node_modules", "hono"), "dir");
    writeFileSync(join(dir, "esm.mjs"), ESM);
    writeFileSync(join(dir, "cjs.cjs"), CJS);
    writeFileSync(join(dir, "names.mjs"), ESM_NAMES);
    writeFileSync(join(dir, "names.cjs"), CJS_NAMES);
  });

  /** The names each subpath declares: what its source module exports (deno.json maps each subpath to it). */
  let declared: Record<string, string[]> | undefined;
  const declaredNames = async () => {
    if (declared !== undefined) return declared;
    const out: Record<string, string[]> = {};
    for (const sp of subpaths) {
      assert.ok(denoJson.exports[sp], `deno.json exports ${sp} too`);
      out[sp] = Object.keys(await import(join(root, denoJson.exports[sp]))).sort();
    }
    return (declared = out);
  };

  const names = (cmd: string, args: string[]) => {
    const r = run(cmd, args);
    assert.ok(r.ok, r.err);
    return JSON.parse(r.out) as Record<string, string[]>;
  };

  it("exports every public name of every subpath on every runtime, ESM and CJS", async () => {
    const want = await declaredNames();
    assert.ok(want["."].includes("statsResponse") && want["."].includes("serve"));
    assert.deepEqual(names(bin("node"), ["names.mjs"]), want, "Node ESM");
    assert.deepEqual(names(bin("node"), ["names.cjs"]), want, "Node CJS");
    assert.deepEqual(names(bin("bun"), ["names.mjs"]), want, "Bun ESM");
    assert.deepEqual(names(bin("bun"), ["names.cjs"]), want, "Bun CJS");
    assert.deepEqual(names(bin("deno"), ["run", "-A", "names.mjs"]), want, "Deno (npm)");
  });

  it("exports the same names from the JSR layout (deno.json exports) on Deno", async () => {
    const want = await declaredNames();
    const lines = subpaths.map((sp) => `out[${JSON.stringify(sp)}] = Object.keys(await import(${JSON.stringify("file://" + join(root, denoJson.exports[sp]))})).sort();`);
    const script = ["const out = {};", ...lines, "console.log(JSON.stringify(out));"].join("\n");
    writeFileSync(join(dir, "jsr.ts"), script);
    assert.deepEqual(names(bin("deno"), ["run", "-A", "--no-check", "jsr.ts"]), want);
  });

  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", timeout: 30_000 });
    return { ok: r.status === 0, out: (r.stdout ?? "").trim(), err: r.stderr ?? String(r.error ?? "") };
  };

  it("works on Node 24 (ESM and CJS)", () => {
    const esm = run(bin("node"), ["esm.mjs"]);
    assert.equal(esm.out, "packed 7", esm.err);
    const cjs = run(bin("node"), ["cjs.cjs"]);
    assert.equal(cjs.out, "packed cjs", cjs.err);
  });

  it("works on the system Node (20)", (t) => {
    const probe = spawnSync("node", ["--version"], { encoding: "utf8" });
    if (probe.status !== 0) return t.skip("no system node on PATH");
    const esm = run("node", ["esm.mjs"]);
    assert.equal(esm.out, "packed 7", esm.err);
    const cjs = run("node", ["cjs.cjs"]);
    assert.equal(cjs.out, "packed cjs", cjs.err);
  });

  it("works on Bun", () => {
    const r = run(bin("bun"), ["esm.mjs"]);
    assert.equal(r.out, "packed 7", r.err);
  });

  it("works on Deno (npm package from node_modules)", () => {
    const r = run(bin("deno"), ["run", "-A", "esm.mjs"]);
    assert.equal(r.out, "packed 7", r.err);
  });
});
