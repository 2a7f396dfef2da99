import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { getConnInfo, type GetConnInfoOptions } from "./hono.ts";
import { connInfo } from "./fetch/conn_info.ts";

function appWith(trustProxy?: GetConnInfoOptions["trustProxy"]) {
  const app = new Hono();
  app.get("/", (c) => c.json(getConnInfo(c, { trustProxy })));
  app.onError((e) => new Response(`${e.name}: ${e.message}`, { status: 500 }));
  return app;
}

const env = connInfo({ socket: { remoteAddress: "10.0.0.2", remotePort: 5555, localAddress: "127.0.0.1", localPort: 3000 }, runtime: "node" });

async function addressOf(trustProxy: GetConnInfoOptions["trustProxy"], headers: Record<string, string>): Promise<string> {
  const r = await appWith(trustProxy).request("/", { headers }, env);
  assert.equal(r.status, 200, await r.clone().text());
  return ((await r.json()) as { remote: { address: string } }).remote.address;
}

describe("getConnInfo()", () => {
  it("returns the socket's peer by default and ignores forwarding headers", async () => {
    const r = await appWith().request("/", { headers: { "x-forwarded-for": "6.6.6.6", forwarded: "for=6.6.6.6", "x-real-ip": "6.6.6.6" } }, env);
    assert.deepEqual(await r.json(), { remote: { address: "10.0.0.2", port: 5555, addressType: "IPv4", transport: "tcp" }, protocol: "http" });
  });

  it("takes the entry added by the outermost trusted proxy from X-Forwarded-For", async () => {
    const headers = { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.9" };
    assert.equal(await addressOf({ header: "x-forwarded-for" }, headers), "10.0.0.9");
    assert.equal(await addressOf({ header: "x-forwarded-for", hops: 1 }, headers), "10.0.0.9");
    assert.equal(await addressOf({ header: "x-forwarded-for", hops: 2 }, headers), "203.0.113.7");
    // Fewer entries than hops: the nearest the chain has.
    assert.equal(await addressOf({ header: "x-forwarded-for", hops: 5 }, headers), "6.6.6.6");
  });

  it("nginx's usual config (appends X-Forwarded-For, passes Forwarded through): a client's Forwarded is ignored", async () => {
    // The client wrote Forwarded and an X-Forwarded-For entry; nginx appended the real peer.
    const headers = { forwarded: "for=6.6.6.6", "x-forwarded-for": "7.7.7.7, 198.51.100.20" };
    assert.equal(await addressOf({ header: "x-forwarded-for", hops: 1 }, headers), "198.51.100.20");
  });

  it("a proxy that writes Forwarded: a client's X-Forwarded-For and X-Real-IP are ignored", async () => {
    const headers = { forwarded: "for=6.6.6.6, for=198.51.100.3:80", "x-forwarded-for": "7.7.7.7", "x-real-ip": "8.8.8.8" };
    assert.equal(await addressOf({ header: "forwarded" }, headers), "198.51.100.3");
  });

  it("Forwarded (RFC 7239): brackets and ports removed, one hop per element", async () => {
    const headers = { forwarded: 'for="[2001:db8::1]:4711";proto=http, for=198.51.100.3:80' };
    assert.equal(await addressOf({ header: "forwarded", hops: 1 }, headers), "198.51.100.3");
    const r = await appWith({ header: "forwarded", hops: 2 }).request("/", { headers }, env);
    assert.deepEqual(await r.json(), { remote: { address: "2001:db8::1", addressType: "IPv6", transport: "tcp" }, protocol: "http" });
    // An element without for= is still a proxy's element.
    assert.equal(await addressOf({ header: "forwarded", hops: 2 }, { forwarded: "for=6.6.6.6, for=198.51.100.3, proto=https" }), "198.51.100.3");
  });

  it("X-Real-IP, set by the proxy: a client's X-Forwarded-For and Forwarded are ignored", async () => {
    const headers = { "x-real-ip": "198.51.100.9", "x-forwarded-for": "6.6.6.6", forwarded: "for=7.7.7.7" };
    assert.equal(await addressOf({ header: "x-real-ip" }, headers), "198.51.100.9");
  });

  it("without the named header (a request that bypassed the proxy), the socket's peer", async () => {
    assert.equal(await addressOf({ header: "x-forwarded-for" }, { forwarded: "for=6.6.6.6" }), "10.0.0.2");
    assert.equal(await addressOf({ header: "forwarded" }, { "x-forwarded-for": "6.6.6.6" }), "10.0.0.2");
    assert.equal(await addressOf({ header: "x-real-ip" }, { "x-forwarded-for": "6.6.6.6" }), "10.0.0.2");
  });

  it("refuses the old guessing shapes and anything ambiguous with a TypeError that says what to write", async () => {
    const bad: unknown[] = [true, 1, 2, "x-forwarded-for", null, {}, { header: "x-client-ip" }, { header: "forwarded", hops: 0 },
      { header: "forwarded", hops: 1.5 }, { header: "x-real-ip", hops: 2 }];
    for (const trustProxy of bad) {
      const r = await appWith(trustProxy as GetConnInfoOptions["trustProxy"]).request("/", { headers: { forwarded: "for=6.6.6.6" } }, env);
      assert.equal(r.status, 500, JSON.stringify(trustProxy));
      const text = await r.text();
      assert.match(text, /^TypeError: getConnInfo: trustProxy/, text);
    }
    assert.throws(() => getConnInfo({ env, req: { header: () => undefined } }, { trustProxy: true as never }), /header: "x-forwarded-for"/);
  });

  it("tells the protocol: the connection's, or with a trusted Forwarded the proto= of the proxy's element", async () => {
    const tlsEnv = connInfo({
      socket: {
        remoteAddress: "10.0.0.2",
        remotePort: 5555,
        localAddress: "127.0.0.1",
        localPort: 3000,
        encrypted: true,
        tlsInfo: () => ({ protocol: "TLSv1.3", alpnProtocol: "http/1.1", serverName: "a.test", authorized: false, peerCertificate: null }),
      },
      runtime: "node",
    });
    const own = (await (await appWith().request("/", {}, tlsEnv)).json()) as { protocol: string; tls: { serverName: string } };
    assert.equal(own.protocol, "https");
    assert.equal(own.tls.serverName, "a.test");
    const via = async (trustProxy: GetConnInfoOptions["trustProxy"], headers: Record<string, string>) =>
      ((await (await appWith(trustProxy).request("/", { headers }, env)).json()) as { protocol: string }).protocol;
    assert.equal(await via({ header: "forwarded" }, { forwarded: "for=6.6.6.6;proto=http, for=1.1.1.1;proto=https" }), "https");
    assert.equal(await via({ header: "forwarded", hops: 2 }, { forwarded: "for=6.6.6.6;proto=http, for=1.1.1.1;proto=https" }), "http");
    // X-Forwarded-For says nothing of the scheme; a client's X-Forwarded-Proto is not believed.
    assert.equal(await via({ header: "x-forwarded-for" }, { "x-forwarded-for": "1.1.1.1", "x-forwarded-proto": "https" }), "http");
    assert.equal(await via(undefined, { forwarded: "for=1.1.1.1;proto=https" }), "http");
  });

  it("throws a TypeError outside anyserve", () => {
    assert.throws(() => getConnInfo({ env: undefined, req: { header: () => undefined } }), TypeError);
  });
});
