/**
 * The `anyserve` command, run by the runtime running this test on the
 * fixture apps in test/fixtures/cli/: each default-export shape, flags and
 * environment variables, and the one-line errors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { createServer } from "node:net";
import { join } from "node:path";
import { ROOT, runCliToEnd, runtime, startCli } from "./helpers/cli_proc.ts";
import { CLI_OPTIONS, parseArgs, UsageError } from "../src/cli/args.ts";
import { VERSION } from "../src/cli/version.ts";
import { DEFAULTS } from "../src/options.ts";

const fixture = (name: string) => join("test/fixtures/cli", name);

async function get(port: number, path = "/"): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return `${r.status} ${await r.text()}`;
}

async function serveAndGet(args: string[], env: Record<string, string> = {}, path = "/") {
  const run = startCli(["--hostname", "127.0.0.1", ...args], env);
  try {
    const port = await run.listening;
    return { port, body: await get(port, path), stderr: run.stderr() };
  } finally {
    run.child.kill("SIGTERM");
    await run.exited;
  }
}

describe("anyserve command: arguments", () => {
  it("has a flag and an environment variable for every numeric option", () => {
    for (const name of Object.keys(DEFAULTS)) {
      assert.ok(CLI_OPTIONS.some((o) => o.name === name), name);
    }
    const o = CLI_OPTIONS.find((x) => x.name === "maxHeaderBytes")!;
    assert.equal(o.flag, "--max-header-bytes");
    assert.equal(o.env, "ANYSERVE_MAX_HEADER_BYTES");
  });

  it("reads flags over environment variables", () => {
    const env: Record<string, string> = { PORT: "4000", ANYSERVE_MAX_BODY_BYTES: "10" };
    const a = parseArgs(["--port=5000", "--low-water-ratio", "0.5", "--workers", "auto", "app.ts"], (n) => env[n]);
    assert.deepEqual(a.options, { port: 5000, maxBodyBytes: 10, lowWaterRatio: 0.5, workers: "auto" });
    assert.equal(a.entry, "app.ts");
    assert.throws(() => parseArgs(["--nope", "1", "a.ts"], () => undefined), UsageError);
    assert.throws(() => parseArgs(["--port"], () => undefined), /--port needs a value/);
    assert.throws(() => parseArgs(["--port", "x", "a.ts"], () => undefined), /--port must be a whole number/);
    assert.throws(() => parseArgs([], () => undefined), /no entry given/);
    assert.throws(() => parseArgs(["a.ts"], (n) => (n === "PORT" ? "x" : undefined)), /environment variable PORT/);
  });

  it("--version matches package.json", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(VERSION, pkg.version);
    const r = await runCliToEnd(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), VERSION);
  });

  it("--help lists the flags", async () => {
    const r = await runCliToEnd(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--max-header-bytes <n>\s+ANYSERVE_MAX_HEADER_BYTES\s+16384/);
    assert.match(r.stdout, /--workers <n\|auto>/);
  });
});

describe(`anyserve command on ${runtime}`, () => {
  it("serves a Hono app on this runtime, port from --port", async () => {
    const r = await serveAndGet(["--port", "0", fixture("hono_app.ts")]);
    assert.equal(r.body, `200 hono on ${runtime}`);
    assert.match(r.stderr, new RegExp(`listening on http://127.0.0.1:${r.port}/ \\(${runtime}\\)`));
  });

  it("serves a { fetch } object (its port field loses to PORT)", async () => {
    const r = await serveAndGet([fixture("object_app.ts")], { PORT: "0" }, "/p");
    assert.equal(r.body, "200 object /p");
  });

  it("serves a fetch function, with a limit from the environment", async () => {
    const run = startCli(["--hostname", "127.0.0.1", "--port", "0", fixture("function_app.ts")], { ANYSERVE_MAX_REQUEST_TARGET_BYTES: "16" });
    try {
      const port = await run.listening;
      assert.equal(await get(port), "200 function");
      assert.equal((await fetch(`http://127.0.0.1:${port}/${"x".repeat(40)}`).then(async (r) => (await r.body?.cancel(), r.status))), 414);
    } finally {
      run.child.kill("SIGTERM");
      const exit = await run.exited;
      // Deno's node:child_process reports a child it sent a signal to as killed by it, whatever the exit status was.
      if (runtime !== "deno") assert.equal(exit.code, 0, "SIGTERM closes gracefully and exits 0");
      else assert.ok(exit.code === 0 || exit.signal === "SIGTERM");
    }
  });

  it("serves with --workers 2", async () => {
    const r = await serveAndGet(["--port", "0", "--workers", "2", fixture("function_app.ts")]);
    assert.equal(r.body, "200 function");
    assert.match(r.stderr, /2 workers/);
  });
});

describe(`anyserve command errors on ${runtime}`, () => {
  const oneLine = (stderr: string) => stderr.trim().split("\n").filter((l) => l.startsWith("anyserve:"));

  it("entry missing", async () => {
    const r = await runCliToEnd(["nope.ts"]);
    assert.equal(r.code, 2);
    assert.deepEqual(oneLine(r.stderr), ["anyserve: entry nope.ts not found (give the path of a module, e.g. anyserve ./app.ts)"]);
  });

  it("no default export, and the wrong shape", async () => {
    let r = await runCliToEnd([fixture("no_default.ts")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no_default\.ts has no default export: add `export default app`/);
    r = await runCliToEnd([fixture("wrong_shape.ts")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /wrong_shape\.ts's default export is an object without a fetch method/);
  });

  it("bad option values", async () => {
    let r = await runCliToEnd(["--max-header-bytes", "abc", fixture("function_app.ts")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^anyserve: --max-header-bytes must be a whole number, got "abc"$/m);
    r = await runCliToEnd(["--max-header-bytes", "3", fixture("function_app.ts")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^anyserve: --max-header-bytes: Invalid maxHeaderBytes "3": must be an integer >= 64$/m);
    r = await runCliToEnd(["--bogus", fixture("function_app.ts")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --bogus/);
  });

  it("port in use", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCliToEnd(["--hostname", "127.0.0.1", "--port", String(port), fixture("function_app.ts")]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^anyserve: port ${port} is in use: choose another with --port`, "m"));
    } finally {
      blocker.close();
    }
  });
});

describe(`anyserve command: --health and --access-log on ${runtime}`, () => {
  it("answers probes and writes JSON access lines to stdout", async () => {
    const run = startCli(["--hostname", "127.0.0.1", "--port", "0", "--health", "--access-log", "json", fixture("function_app.ts")]);
    try {
      const port = await run.listening;
      assert.equal(await get(port, "/readyz"), "200 ready\n");
      assert.equal(await get(port, "/q?x=1"), "200 function");
      const deadline = Date.now() + 5000;
      while (!run.stdout().includes("/q?x=1") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const lines = run.stdout().trim().split("\n").map((l) => JSON.parse(l));
      const q = lines.find((l) => l.target === "/q?x=1");
      assert.ok(q, run.stdout());
      assert.equal(q.status, 200);
      assert.equal(q.method, "GET");
      assert.equal(q.bytes, 8);
      assert.equal(q.remoteAddress, "127.0.0.1");
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  });

  it("names the flag of a bad --access-log", async () => {
    const r = await runCliToEnd(["--access-log", "xml", fixture("function_app.ts")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^anyserve: --access-log: Invalid accessLog "xml"/m);
  });
});

describe(`anyserve command: --lightweight-globals on ${runtime}`, () => {
  for (const [args, expected] of [[[], "runtime globals"], [["--lightweight-globals"], "lightweight globals"]] as const) {
    it(`${args.length === 0 ? "without the flag, the runtime's" : "with the flag, the opt-in's"} Request and Response`, async () => {
      const run = startCli(["--hostname", "127.0.0.1", "--port", "0", ...args, fixture("globals_app.ts")]);
      try {
        const port = await run.listening;
        assert.equal(await get(port), `200 ${expected}`);
      } finally {
        run.child.kill("SIGTERM");
        await run.exited;
      }
    });
  }
});

describe(`anyserve --watch on ${runtime}`, () => {
  it("reloads onto a new worker when a file in the entry's directory changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "anyserve-watch-"));
    const entry = join(dir, "app.ts");
    writeFileSync(entry, `import process from "node:process";\nexport default () => new Response(String(process.pid));\n`);
    const run = startCli(["--watch", "--hostname", "127.0.0.1", "--port", "0", entry]);
    try {
      const port = await run.listening;
      const first = await get(port);
      writeFileSync(join(dir, "app.ts"), `import process from "node:process";\nexport default () => new Response("v2 " + process.pid);\n`);
      const deadline = Date.now() + 30_000;
      while (!run.stderr().includes("reload done") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const second = await get(port);
      assert.notEqual(second, first);
      assert.match(second, /^200 v2 \d+$/);
    } finally {
      process.kill(run.child.pid!, "SIGTERM");
      await run.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
