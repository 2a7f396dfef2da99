/**
 * HTTPS on the runtime running the test (Node, Deno or Bun, through
 * `mod.ts`): certificates made at test time with `openssl`, real clients
 * (`node:https` with the test CA, the runtime's own `fetch` with it, curl,
 * `openssl s_client`), SNI, mutual TLS, expired certificates, the handshake
 * timeout, and a certificate swap under load. What a runtime cannot do is
 * asserted as the clear error it gives.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import { serve, type Server, type ServeOptions } from "../../mod.ts";
import { hasCommand, makeCerts, opensslMissing, type TestCerts } from "../helpers/certs.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const skip = opensslMissing();
const noCurl = hasCommand("curl") ? false : "curl is not installed";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Got {
  status: number;
  body: string;
}

/** One HTTPS request with `node:https` (a new connection each time unless `agent` is given). */
function get(port: number, path: string, o: tls.ConnectionOptions & { agent?: https.Agent; host?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & { ALPNProtocols: string[] } = {
      host: "127.0.0.1",
      port,
      path,
      servername: o.servername ?? "localhost",
      headers: { host: o.host ?? `localhost:${port}` },
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      ALPNProtocols: ["http/1.1"],
      agent: o.agent ?? false,
    };
    const req = https.request(options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** The certificate a handshake with `servername` gets, and the ALPN protocol agreed. */
function peer(port: number, servername?: string): Promise<{ cn: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] }, () => {
      const cn = String(s.getPeerCertificate().subject?.CN ?? "");
      const alpn = s.alpnProtocol ?? false;
      s.destroy();
      resolve({ cn, alpn });
    });
    s.on("error", reject);
  });
}

/** Runs a command; resolves with its exit code and output (never rejects for a non-zero exit). */
function cmd(file: string, args: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(input);
  });
}

const info = (req: Request, env: unknown) => {
  const e = env as { protocol: string; tls: { alpnProtocol: string | null; peerCertificate: { subject: string } | null } | null };
  return Response.json({ url: req.url, protocol: e.protocol, alpn: e.tls?.alpnProtocol ?? null, subject: e.tls?.peerCertificate?.subject ?? null });
};

describe(`HTTPS on ${RUNTIME}`, { skip }, () => {
  let certs: TestCerts;
  const servers: Server[] = [];
  const start = async (options: Omit<ServeOptions, "fetch"> & { fetch?: ServeOptions["fetch"] }) => {
    const server = serve({ fetch: info, port: 0, hostname: "127.0.0.1", ...options });
    servers.push(server);
    await server.ready;
    return server;
  };

  before(() => {
    certs = makeCerts();
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close({ deadlineMs: 200 })));
    certs?.remove();
  });

  it("serves HTTPS: https:// request URL and server URL, env.protocol, ALPN http/1.1", async () => {
    const server = await start({ tls: { cert: certs.localhost.cert, key: certs.localhost.key } });
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await get(server.port, "/a?b=1", { ca: certs.ca.cert });
    assert.equal(r.status, 200);
    const j = JSON.parse(r.body);
    assert.equal(j.url, `https://localhost:${server.port}/a?b=1`);
    assert.equal(j.protocol, "https");
    assert.equal(j.alpn, "http/1.1");
    // The default port of https is 443, as a Request would have it.
    const r443 = JSON.parse((await get(server.port, "/p", { ca: certs.ca.cert, host: "localhost:443" })).body);
    assert.equal(r443.url, "https://localhost/p");
    assert.equal(r443.url, new Request("https://localhost:443/p").url);
  });

  it("takes PEM as bytes too", async () => {
    const enc = new TextEncoder();
    const server = await start({ tls: { cert: enc.encode(certs.localhost.cert), key: enc.encode(certs.localhost.key) } });
    assert.equal((await get(server.port, "/", { ca: certs.ca.cert })).status, 200);
  });

  it("answers the runtime's own fetch given the test CA", async () => {
    const server = await start({ tls: { cert: certs.localhost.cert, key: certs.localhost.key } });
    const url = `https://localhost:${server.port}/native`;
    let r: Response;
    if (RUNTIME === "bun") {
      r = await fetch(url, { tls: { ca: certs.ca.cert } } as RequestInit);
    } else if (RUNTIME === "deno") {
      const D = (globalThis as unknown as { Deno: { createHttpClient(o: { caCerts: string[] }): { close(): void } } }).Deno;
      const client = D.createHttpClient({ caCerts: [certs.ca.cert] });
      try {
        r = await fetch(url, { client } as RequestInit);
        assert.equal((await r.json()).protocol, "https");
      } finally {
        client.close();
      }
      return;
    } else {
      // Node's fetch takes no CA per request: add it to the defaults (this test file's process only).
      tls.setDefaultCACertificates([...tls.getCACertificates("default"), certs.ca.cert]);
      r = await fetch(url);
    }
    assert.equal(r.status, 200);
    assert.equal((await r.json()).url, url);
  });

  it("answers curl --cacert", { skip: noCurl }, async () => {
    const server = await start({ tls: { cert: certs.localhost.cert, key: certs.localhost.key } });
    const r = await cmd("curl", ["-sS", "--cacert", certs.ca.certFile, `https://localhost:${server.port}/curl`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).url, `https://localhost:${server.port}/curl`);
  });

  // Deno gives up on the handshake (the TlsConn is closed and counted) but
  // keeps the TCP connection open until the client sends or closes: closing a
  // Deno.TlsConn mid-handshake does not close its socket (Deno 2.9.6; the same
  // through Deno's node:tls with handshakeTimeout).
  const keepsTcp = RUNTIME === "deno";
  it(keepsTcp
    ? "gives up a handshake that never completes at tlsHandshakeTimeoutMs, counted in stats (Deno keeps the TCP socket)"
    : "cuts a handshake that never completes at tlsHandshakeTimeoutMs, counted in stats", async () => {
    const server = await start({ tls: { cert: certs.localhost.cert, key: certs.localhost.key }, tlsHandshakeTimeoutMs: 300 });
    const sockets: net.Socket[] = [];
    const silent = (bytes: Uint8Array | null) =>
      new Promise<number>((resolve, reject) => {
        const t0 = Date.now();
        const s = net.connect(server.port, "127.0.0.1", () => {
          if (bytes !== null) s.write(bytes);
        });
        sockets.push(s);
        s.on("error", () => {});
        s.on("close", () => resolve(Date.now() - t0));
        setTimeout(() => reject(new Error("the server kept a half-open handshake for 5 s")), 5000);
      });
    // Nothing at all, and the first bytes of a ClientHello (record header only).
    const cut = Promise.all([silent(null), silent(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00]))]);
    if (keepsTcp) {
      cut.catch(() => {});
      const deadline = Date.now() + 5000;
      while (server.stats().connections.timedOut < 2 && Date.now() < deadline) await sleep(20);
      for (const s of sockets) s.destroy();
    } else {
      const [a, b] = await cut;
      assert.ok(a >= 250 && b >= 250, `cut at the timeout, not before (${a} ms, ${b} ms)`);
    }
    assert.ok(server.stats().connections.timedOut >= 2, `timedOut ${server.stats().connections.timedOut}`);
    // The server goes on serving.
    assert.equal((await get(server.port, "/", { ca: certs.ca.cert })).status, 200);
  });

  it("a client that does not trust the certificate, or finds it expired, gets no response", async () => {
    const server = await start({ tls: { cert: certs.expiredServer.cert, key: certs.expiredServer.key } });
    await assert.rejects(get(server.port, "/", { ca: certs.ca.cert }), /expired/i);
    await assert.rejects(get(server.port, "/"), /certificate/i);
    // Told to ignore it, the client is served.
    assert.equal((await get(server.port, "/", { rejectUnauthorized: false })).status, 200);
  });

  describe("SNI: several certificates", () => {
    const list = () => [
      { cert: certs.localhost.cert, key: certs.localhost.key },
      { serverName: "b.test", cert: certs.bTest.cert, key: certs.bTest.key },
    ];

    it("presents the certificate for the SNI name, the first one otherwise", async () => {
      const server = await start({ tls: list() });
      assert.deepEqual(await peer(server.port, "b.test"), { cn: "b.test", alpn: "http/1.1" });
      assert.equal((await peer(server.port, "localhost")).cn, "localhost");
      // A name no entry has: the default certificate, which a verifying client refuses for that name.
      assert.equal((await peer(server.port, "wrong.test")).cn, "localhost");
      const r = await get(server.port, "/b", { ca: certs.ca.cert, servername: "b.test", host: "b.test" });
      assert.equal(JSON.parse(r.body).url, "https://b.test/b");
      await assert.rejects(get(server.port, "/", { ca: certs.ca.cert, servername: "wrong.test", host: "wrong.test" }), /altnames|wrong\.test|certificate/i);
    });

    it("answers openssl s_client -alpn http/1.1 -servername b.test", async () => {
      const server = await start({ tls: list() });
      const r = await cmd("openssl", ["s_client", "-connect", `127.0.0.1:${server.port}`, "-alpn", "http/1.1", "-servername", "b.test", "-CAfile", certs.ca.certFile]);
      assert.match(r.stdout, /ALPN protocol: http\/1\.1/);
      assert.match(r.stdout, /subject=\/?CN ?= ?b\.test/);
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
    });

    it("with curl, a wrong name fails verification and the right one is served", { skip: noCurl }, async () => {
      const server = await start({ tls: list() });
      const ok = await cmd("curl", ["-sS", "--cacert", certs.ca.certFile, "--resolve", `b.test:${server.port}:127.0.0.1`, `https://b.test:${server.port}/x`]);
      assert.equal(ok.code, 0, ok.stderr);
      const wrong = await cmd("curl", ["-sS", "--cacert", certs.ca.certFile, "--resolve", `wrong.test:${server.port}:127.0.0.1`, `https://wrong.test:${server.port}/x`]);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /wrong\.test|subject|certificate/i);
    });
  });

  describe("mutual TLS (requestCert)", () => {
    const mtls = () => ({ cert: certs.localhost.cert, key: certs.localhost.key, ca: certs.ca.cert, requestCert: true });

    if (RUNTIME === "deno") {
      it("is refused on Deno with a clear error (Deno.listenTls never asks for a client certificate)", async () => {
        const server = serve({ fetch: info, port: 0, hostname: "127.0.0.1", tls: mtls() });
        await assert.rejects(server.ready, /requestCert \(mutual TLS\) is not available on Deno/);
      });
      return;
    }

    it("gives the handler the client certificate's subject; refuses a client without one or with an expired one", async () => {
      const server = await start({ tls: mtls() });
      const r = await get(server.port, "/me", { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });
      assert.equal(JSON.parse(r.body).subject, "CN=client one, O=Acme");
      await assert.rejects(get(server.port, "/", { ca: certs.ca.cert }));
      await assert.rejects(get(server.port, "/", { ca: certs.ca.cert, cert: certs.expiredClient.cert, key: certs.expiredClient.key }));
      // And goes on serving.
      assert.equal((await get(server.port, "/", { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key })).status, 200);
    });

    it("with rejectUnauthorized: false, serves a client without a certificate (subject null)", async () => {
      const server = await start({ tls: { ...mtls(), rejectUnauthorized: false } });
      assert.equal(JSON.parse((await get(server.port, "/", { ca: certs.ca.cert })).body).subject, null);
    });

    it("answers curl --cert", { skip: noCurl }, async () => {
      const server = await start({ tls: mtls() });
      const r = await cmd("curl", ["-sS", "--cacert", certs.ca.certFile, "--cert", certs.client.certFile, "--key", certs.client.keyFile, `https://localhost:${server.port}/`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).subject, "CN=client one, O=Acme");
    });
  });

  describe("setTls: certificates swapped at run time", () => {
    const D = (globalThis as { Deno?: object }).Deno;
    // Bun and Deno bind a second listener beside the first: that needs SO_REUSEPORT (and on Deno --unstable-net).
    const reusePort = RUNTIME !== "node";
    const noUnstable = RUNTIME === "deno" && D !== undefined && !("listenDatagram" in D)
      ? "reusePort on Deno needs --unstable-net (the test runs without it)"
      : false;

    // Node (and Bun's node:tls path, taken for a certificate list) swaps the
    // context of its one listener: nothing fails. Bun.listen and Deno bind a
    // new listener and close the old one, and Linux resets the connections
    // still waiting in the old one's accept queue: open connections are
    // kept, but a connect racing the swap can be reset.
    const sni = (c: { cert: string; key: string }) => [c, { serverName: "b.test", cert: certs.bTest.cert, key: certs.bTest.key }];
    const cases: { title: string; list: boolean; reusePort: boolean; strict: boolean; skip: string | false }[] = [
      {
        title: RUNTIME === "node"
          ? "under load, with no failed request; new handshakes get the new certificate"
          : "under load (reusePort), with no failed request on open connections; new handshakes get the new certificate",
        list: false,
        reusePort,
        strict: RUNTIME === "node",
        skip: noUnstable,
      },
      {
        title: "with several certificates, in place under load with no failed request",
        list: true,
        reusePort: RUNTIME === "deno",
        strict: RUNTIME !== "deno",
        skip: noUnstable,
      },
    ];
    for (const c of cases) {
      it(c.title, { skip: c.skip, timeout: 20_000 }, async () => {
        const first = { cert: certs.localhost.cert, key: certs.localhost.key };
        const server = await start({ tls: c.list ? sni(first) : first, ...(c.reusePort ? { reusePort: true } : {}) });
        assert.equal((await peer(server.port)).cn, "localhost");
        let stop = false;
        let ok = 0;
        const failures: string[] = [];
        const raced: string[] = [];
        const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
        // Open the keep-alive connections before the swap.
        await Promise.all([get(server.port, "/", { ca: certs.ca.cert, agent }), get(server.port, "/", { ca: certs.ca.cert, agent })]);
        const loop = async (keepAlive: boolean) => {
          while (!stop) {
            try {
              const r = await get(server.port, "/", { ca: certs.ca.cert, ...(keepAlive ? { agent } : {}) });
              if (r.status === 200) ok++;
              else failures.push(`status ${r.status}`);
            } catch (e) {
              if (!keepAlive && !c.strict && /ECONNRESET/.test(String(e))) raced.push(String(e));
              else failures.push(String(e));
            }
          }
        };
        const loops = [loop(false), loop(false), loop(true), loop(true)];
        await sleep(300);
        const next = { cert: certs.localhost2.cert, key: certs.localhost2.key };
        await server.setTls(c.list ? sni(next) : next);
        await sleep(300);
        stop = true;
        await Promise.all(loops);
        agent.destroy();
        assert.deepEqual(failures, []);
        assert.ok(ok > 10, `requests flowed (${ok}; connects reset by the swap: ${raced.length})`);
        assert.equal((await peer(server.port)).cn, "localhost-2");
        if (c.list) assert.equal((await peer(server.port, "b.test")).cn, "b.test");
      });
    }

    it("rejects a bad certificate and keeps the old one", { skip: noUnstable }, async () => {
      const server = await start({ tls: { cert: certs.localhost.cert, key: certs.localhost.key }, ...(reusePort ? { reusePort: true } : {}) });
      await assert.rejects(server.setTls({ cert: certs.localhost2.cert, key: "not a key" }));
      assert.equal((await peer(server.port)).cn, "localhost");
      assert.equal((await get(server.port, "/", { ca: certs.ca.cert })).status, 200);
    });

    if (RUNTIME !== "node") {
      it(`without reusePort, rejects on ${RUNTIME} with a clear error and keeps serving`, async () => {
        const server = await start({ tls: { cert: certs.localhost.cert, key: certs.localhost.key } });
        await assert.rejects(server.setTls({ cert: certs.localhost2.cert, key: certs.localhost2.key }), /needs reusePort: true/);
        assert.equal((await peer(server.port)).cn, "localhost");
      });
    }

    it("rejects on a plain HTTP server", async () => {
      const server = await start({});
      await assert.rejects(server.setTls({ cert: certs.localhost.cert, key: certs.localhost.key }), /not started with the tls option/);
    });
  });
});

describe("TLS options are checked", () => {
  it("refuses unknown fields, a missing key, and settings allowed on the first entry only", () => {
    const fetch = () => new Response("");
    assert.throws(() => serve({ fetch, tls: { cert: "x", key: "y", certFile: "z" } as never }), /Unknown option tls\.certFile/);
    assert.throws(() => serve({ fetch, tls: { cert: "x" } as never }), /both cert and key are required/);
    assert.throws(() => serve({ fetch, tls: [{ cert: "x", key: "y" }, { cert: "x", key: "y", requestCert: true }] }), /tls\[1\]\.requestCert/);
    assert.throws(() => serve({ fetch, tls: { cert: 1, key: "y" } as never }), /Invalid tls\.cert/);
  });
});
