import { defineConfig } from "tsup";

// The npm package: ESM and CJS with .d.ts, one entry per public subpath.
export default defineConfig({
  entry: {
    mod: "mod.ts",
    node: "adapters/node.ts",
    deno: "adapters/deno.ts",
    bun: "adapters/bun.ts",
    router: "src/router/mod.ts",
    hono: "src/hono.ts",
    // The `anyserve` bin (package.json "bin"); esbuild keeps its #! line.
    cli: "cli.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  external: ["node:fs", "node:path", "node:url", "node:net", "node:cluster", "node:os", "node:child_process", "node:process", "node:zlib"],
  splitting: true,
  treeshake: true,
});
