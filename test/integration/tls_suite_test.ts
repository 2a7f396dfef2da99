/**
 * The whole server suite (`suite.ts`) once more over TLS, on the runtime
 * running the test: same cases, every server made with `tls`, the clients
 * (`fetch` and the raw-bytes client) trusting a CA made at test time.
 *
 * @module
 */

import { describe, it } from "node:test";
import * as tls from "node:tls";
import { serve } from "../../mod.ts";
import { makeCerts, opensslMissing } from "../helpers/certs.ts";
import { defineServerSuite, type SuiteTransport } from "./suite.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const missing = opensslMissing();

/** `fetch` trusting `ca`, the way each runtime allows it. */
function fetchTrusting(ca: string): typeof fetch {
  if (RUNTIME === "bun") return (input, init) => fetch(input, { ...init, tls: { ca } } as RequestInit);
  if (RUNTIME === "deno") {
    const D = (globalThis as unknown as { Deno: { createHttpClient(o: { caCerts: string[] }): unknown } }).Deno;
    const client = D.createHttpClient({ caCerts: [ca] });
    return (input, init) => fetch(input, { ...init, client } as RequestInit);
  }
  // Node's fetch takes no CA per request: add it to the defaults (this file's process only).
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), ca]);
  return fetch;
}

if (missing) {
  describe(`anyserve on ${RUNTIME} over TLS`, () => {
    it("runs the server suite over TLS", { skip: missing }, () => {});
  });
} else {
  const certs = makeCerts();
  // Everything the suite needs is in memory now.
  certs.remove();
  const transport: SuiteTransport = {
    serveOptions: { tls: { cert: certs.localhost.cert, key: certs.localhost.key } },
    scheme: "https",
    fetch: fetchTrusting(certs.ca.cert),
    raw: { ca: certs.ca.cert },
  };
  defineServerSuite(`${RUNTIME} over TLS`, serve, transport);
  if (RUNTIME === "bun") {
    // A certificate list takes Bun's node:tls path (Bun.listen serves one certificate): the suite once more there.
    const list = [
      { cert: certs.localhost.cert, key: certs.localhost.key },
      { serverName: "b.test", cert: certs.bTest.cert, key: certs.bTest.key },
    ];
    defineServerSuite("bun over TLS, several certificates (node:tls)", serve, { ...transport, serveOptions: { tls: list } });
  }
}
