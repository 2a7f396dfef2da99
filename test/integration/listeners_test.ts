/**
 * Listeners other than a TCP port, on the runtime running the test: Unix
 * sockets (file mode, stale and live socket files, TLS over one), an
 * inherited listening descriptor (fd 3, as systemd hands it over), and the
 * refusal of option names `serve()` does not know.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type Server } from "../../mod.ts";
import { hasCommand, makeCerts, opensslMissing } from "../helpers/certs.ts";
import { parseResponses } from "../helpers/raw_client.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = path.join(ROOT, "node_modules/.bin/node");
const noCurl = hasCommand("curl") ? false : "curl is not installed";

/** Sends `input` over the Unix socket at `socketPath`; resolves with what came back once the server closes. */
function unixRequest(socketPath: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ path: socketPath }, () => s.write(input));
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    s.on("error", reject);
    setTimeout(() => s.destroy(), 3000);
  });
}

/** Leaves a stale socket file at `socketPath`: a Node process binds it and is killed before it can remove it. */
function staleSocket(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const code = `require("net").createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, "SIGKILL"))`;
    const child = spawn(NODE, ["-e", code], { stdio: "ignore" });
    child.on("exit", () => (fs.existsSync(socketPath) ? resolve() : reject(new Error("no socket file left"))));
  });
}

describe(`Unix sockets on ${RUNTIME}`, () => {
  let dir: string;
  const servers: Server[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "anyserve-unix-"));
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close({ deadlineMs: 200 })));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serves on a socket file with the mode asked for; address.path and url say where", async () => {
    const p = path.join(dir, "app.sock");
    const server = serve({ unix: { path: p, mode: 0o600 }, fetch: (req, env) => new Response(`${req.url} ${env.protocol}`) });
    servers.push(server);
    await server.ready;
    assert.equal(server.address.path, p);
    assert.equal(server.url, "http://localhost/");
    assert.equal(fs.statSync(p).mode & 0o777, 0o600);
    const text = await unixRequest(p, "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert.equal(parseResponses(text)[0].body, "http://localhost/x http");
    // HTTP/1.0 without Host: the URL still parses.
    const old = await unixRequest(p, "GET /y HTTP/1.0\r\n\r\n");
    assert.equal(parseResponses(old)[0].body, "http://localhost:0/y http");
  });

  it("answers curl --unix-socket", { skip: noCurl }, async () => {
    const p = path.join(dir, "curl.sock");
    const server = serve({ unix: p, fetch: () => new Response("over unix") });
    servers.push(server);
    await server.ready;
    const out = await new Promise<string>((resolve, reject) =>
      execFile("curl", ["-sS", "--unix-socket", p, "http://localhost/"], (e, stdout) => (e ? reject(e) : resolve(String(stdout))))
    );
    assert.equal(out, "over unix");
  });

  it("refuses a stale socket file unless removeStale, and never a live one or a plain file", async () => {
    const p = path.join(dir, "stale.sock");
    await staleSocket(p);
    const refused = serve({ unix: p, fetch: () => new Response("") });
    await assert.rejects(refused.ready, /stale socket file .*removeStale: true/);
    const server = serve({ unix: { path: p, removeStale: true }, fetch: () => new Response("fresh") });
    servers.push(server);
    await server.ready;
    assert.equal(parseResponses(await unixRequest(p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))[0].body, "fresh");
    const second = serve({ unix: { path: p, removeStale: true }, fetch: () => new Response("") });
    await assert.rejects(second.ready, /another server is accepting on it/);
    const file = path.join(dir, "plain.txt");
    fs.writeFileSync(file, "not a socket");
    await assert.rejects(serve({ unix: { path: file, removeStale: true }, fetch: () => new Response("") }).ready, /not a socket/);
    assert.equal(fs.readFileSync(file, "utf8"), "not a socket");
  });

  const tlsSkip = opensslMissing() || noCurl;
  it(RUNTIME === "deno" ? "refuses TLS over a unix socket on Deno (Deno.listenTls binds TCP only)" : "serves HTTPS over a unix socket", { skip: tlsSkip }, async () => {
    const certs = makeCerts();
    try {
      const p = path.join(dir, "tls.sock");
      const server = serve({ unix: p, tls: { cert: certs.localhost.cert, key: certs.localhost.key }, fetch: (req) => new Response(req.url) });
      if (RUNTIME === "deno") {
        await assert.rejects(server.ready, /tls over a unix socket is not available on Deno/);
        return;
      }
      servers.push(server);
      await server.ready;
      assert.equal(server.url, "https://localhost/");
      const out = await new Promise<string>((resolve, reject) =>
        execFile("curl", ["-sS", "--cacert", certs.ca.certFile, "--unix-socket", p, "https://localhost/s"], (e, stdout, stderr) => (e ? reject(new Error(String(stderr))) : resolve(String(stdout))))
      );
      assert.equal(out, "https://localhost/s");
    } finally {
      certs.remove();
    }
  });
});

describe(`an inherited listening socket (fd) on ${RUNTIME}`, () => {
  if (RUNTIME === "deno") {
    it("is refused on Deno with a clear error", async () => {
      const server = serve({ fd: 3, fetch: () => new Response("") });
      await assert.rejects(server.ready, /inherited descriptor \(fd\) is not available on Deno/);
    });
    return;
  }
  if (RUNTIME === "bun") {
    it("is tested from Node, which can hand its listening socket to a Bun child", { skip: "the parent must expose its listening descriptor (Node's _handle.fd); see this test under Node" }, () => {});
    return;
  }

  const children: [string, string[]][] = [
    ["node", [NODE]],
    ["bun", [path.join(ROOT, "node_modules/.bin/bun")]],
  ];
  for (const [name, cmd] of children) {
    it(`serves on fd 3 handed to a ${name} child process, as systemd socket activation does`, { timeout: 15_000 }, async () => {
      // The parent binds, the child inherits the listening socket as fd 3 and accepts on it.
      const listener = net.createServer();
      await new Promise<void>((r) => listener.listen(0, "127.0.0.1", () => r()));
      const port = (listener.address() as net.AddressInfo).port;
      const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
      assert.ok(fd > 2, "Node exposes the listening socket's descriptor");
      const child = spawn(cmd[0], [...cmd.slice(1), path.join(ROOT, "test/integration/fixtures/fd_app.ts")], { stdio: ["ignore", "pipe", "inherit", fd] });
      // The parent never accepts: it stops listening once the child has its copy.
      listener.close();
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let buf = "";
          child.stdout!.setEncoding("utf8").on("data", (d: string) => {
            buf += d;
            if (buf.includes("\n")) resolve(buf.trim());
          });
          child.once("exit", () => reject(new Error(`child exited: ${buf}`)));
        });
        assert.equal(line, `ready 127.0.0.1:${port}`);
        const r = await fetch(`http://127.0.0.1:${port}/hi`);
        assert.equal(await r.text(), `fd http://127.0.0.1:${port}/hi`);
      } finally {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    });
  }
});

describe("serve() refuses options it does not know", () => {
  const fetch = () => new Response("");

  it("names the unknown option, before binding anything", () => {
    assert.throws(() => serve({ fetch, unix0: "/tmp/x.sock" } as never), /Unknown option "unix0"/);
    assert.throws(() => serve({ fetch, port: 0, tsl: {} } as never), /Unknown option "tsl"/);
    assert.throws(() => serve({ fetch, unix: { path: "/tmp/x.sock", mod: 0o600 } } as never), /Unknown option unix\.mod/);
  });

  it("refuses unix or fd together with a TCP address or workers", () => {
    assert.throws(() => serve({ fetch, unix: "/tmp/x.sock", port: 3000 }), /unix and port exclude each other/);
    assert.throws(() => serve({ fetch, fd: 3, hostname: "127.0.0.1" }), /fd and hostname exclude each other/);
    assert.throws(() => serve({ fetch, unix: "/tmp/x.sock", workers: 2 }), /unix and workers exclude each other/);
    assert.throws(() => serve({ fetch, unix: "/tmp/x.sock", fd: 3 }), /unix and fd exclude each other/);
  });

  it("still takes every option it documents (undefined values too)", async () => {
    const server = serve({ fetch, port: 0, hostname: "127.0.0.1", workers: undefined, tls: undefined, unix: undefined, fd: undefined, tlsHandshakeTimeoutMs: 1000 });
    await server.ready;
    await server.close();
  });
});
