/**
 * WebSocket over TLS (`wss://`) on the runtime running the test: a server
 * made with `serve({ tls })` upgrades through `upgradeConnection` to a
 * WebSocket session, and the runtime's own WebSocket client, trusting a CA
 * made at test time, echoes through it.
 *
 * @module
 */

import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import { serve, type Server } from "../../mod.ts";
import { upgradeConnection } from "../../src/connection/protocol.ts";
import { prepareUpgrade, type WebSocketHandler } from "../../src/ws/mod.ts";
import { makeCerts, opensslMissing, type TestCerts } from "../helpers/certs.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const skip = opensslMissing() ||
  (RUNTIME === "deno" ? "Deno's WebSocket client takes no CA (only --cert / DENO_CERT at startup)" : false);

let certs: TestCerts;
let server: Server;
const echo: WebSocketHandler<null> = { message: (ws, m) => void ws.send(m) };

before(async () => {
  if (skip) return;
  certs = makeCerts();
  server = serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: certs.localhost.cert, key: certs.localhost.key },
    fetch(req, env) {
      const prep = prepareUpgrade({ method: req.method, headers: req.headers }, echo, null, { pingIntervalMs: 0 });
      if (!prep.ok) return prep.response;
      // The connection writes its own `Connection: Upgrade`.
      upgradeConnection(env, req, prep.session, prep.headers.filter(([k]) => k.toLowerCase() !== "connection"));
      return new Response(null);
    },
  });
  await server.ready;
});

after(async () => {
  if (skip) return;
  await server.close({ deadlineMs: 200 });
  certs.remove();
});

it(`${RUNTIME}: wss:// echoes through a TLS server`, { skip, timeout: 10_000 }, async () => {
  const url = `wss://localhost:${server.port}/`;
  let ws: WebSocket;
  if (RUNTIME === "bun") {
    ws = new (WebSocket as unknown as new (u: string, o: object) => WebSocket)(url, { tls: { ca: certs.ca.cert } });
  } else {
    // Node's WebSocket takes no CA per socket: add it to the defaults (this file's process only).
    tls.setDefaultCACertificates([...tls.getCACertificates("default"), certs.ca.cert]);
    ws = new WebSocket(url);
  }
  const got = await new Promise<string>((resolve, reject) => {
    ws.onopen = () => ws.send("over tls");
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onerror = () => reject(new Error("client error"));
  });
  assert.equal(got, "over tls");
  const closed = new Promise<number>((r) => (ws.onclose = (e) => r(e.code)));
  ws.close(1000);
  assert.equal(await closed, 1000);
});
