import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { getConnInfo } from "./hono.ts";
import { connInfo } from "./fetch/conn_info.ts";

function appWith(trustProxy?: boolean | number) {
  const app = new Hono();
  app.get("/", (c) => c.json(getConnInfo(c, { trustProxy })));
  return app;
}

const env = connInfo("10.0.0.2", 5555, "127.0.0.1", 3000, "node");

describe("getConnInfo()", () => {
  it("returns the socket's peer by default and ignores forwarding headers", async () => {
    const r = await appWith().request("/", { headers: { "x-forwarded-for": "6.6.6.6" } }, env);
    assert.deepEqual(await r.json(), { remote: { address: "10.0.0.2", port: 5555, addressType: "IPv4", transport: "tcp" } });
  });

  it("takes the entry added by the outermost trusted proxy from X-Forwarded-For", async () => {
    const headers = { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.9" };
    assert.equal(((await (await appWith(true).request("/", { headers }, env)).json()) as { remote: { address: string } }).remote.address, "10.0.0.9");
    assert.equal(((await (await appWith(2).request("/", { headers }, env)).json()) as { remote: { address: string } }).remote.address, "203.0.113.7");
  });

  it("prefers Forwarded (RFC 7239), with brackets and ports removed", async () => {
    const headers = { forwarded: 'for="[2001:db8::1]:4711";proto=http, for=198.51.100.3:80', "x-forwarded-for": "1.1.1.1" };
    const one = (await (await appWith(1).request("/", { headers }, env)).json()) as { remote: { address: string; addressType: string } };
    assert.equal(one.remote.address, "198.51.100.3");
    const two = (await (await appWith(2).request("/", { headers }, env)).json()) as { remote: { address: string; addressType: string } };
    assert.equal(two.remote.address, "2001:db8::1");
    assert.equal(two.remote.addressType, "IPv6");
  });

  it("throws a TypeError outside anyserve", () => {
    assert.throws(() => getConnInfo({ env: undefined, req: { header: () => undefined } }), TypeError);
  });
});
