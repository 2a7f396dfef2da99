/**
 * Strict input and checked output, over real sockets with default options:
 * bare CRs refused at once, ordinary heads with many fields accepted, and
 * nothing a handler returns can add a line to the response head.
 *
 * Each runtime's entry calls {@linkcode defineStrictSuite} with its `serve`.
 *
 * @module
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Server, ServeOptions } from "../../mod.ts";
import { parseResponses, rawRequest } from "../helpers/raw_client.ts";

/** How the suite starts a server on the runtime under test. */
export type ServeFn = (options: ServeOptions) => Server;

/** Registers the suite for `runtime`. */
export function defineStrictSuite(runtime: string, serve: ServeFn): void {
  describe(`anyserve on ${runtime}: strict input, checked output`, () => {
    let server: Server;
    let port = 0;
    const routes: Record<string, () => Response> = {
      "/": () => new Response("ok"),
    };

    before(async () => {
      // Default limits and timeouts: what a user gets.
      server = serve({
        fetch: (req) => {
          const route = routes[new URL(req.url).pathname];
          return route === undefined ? new Response("not found", { status: 404 }) : route();
        },
        port: 0,
        hostname: "127.0.0.1",
      });
      await server.ready;
      port = server.port;
    });

    after(async () => {
      await server.close({ deadlineMs: 500 });
    });

    async function stillServing(): Promise<void> {
      const { text } = await rawRequest(port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      assert.deepEqual(parseResponses(text).map((r) => [r.status, r.body]), [[200, "ok"]]);
    }

    it("accepts a request with 100 header fields besides Host", async () => {
      const fields = Array.from({ length: 100 }, (_, i) => `X-Field-${i}: value ${i}\r\n`).join("");
      const { text } = await rawRequest(port, `GET / HTTP/1.1\r\nHost: a\r\n${fields}Connection: close\r\n\r\n`);
      assert.deepEqual(parseResponses(text).map((r) => r.status), [200]);
    });

    // The headers timeout (5 s by default) is longer than the client waits:
    // only an answer given at once passes.
    const bareCr: [string, string][] = [
      ["CRs and no LF at all", "GET / HTTP/1.1\rHost: a\r\r"],
      ["a CR where the blank line should be", "GET / HTTP/1.1\r\nHost: a\r\n\rabc"],
      ["a CR inside an unfinished field value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2"],
    ];
    for (const [name, input] of bareCr) {
      it(`answers 400 at once to a head with a bare CR: ${name}`, async () => {
        const { text, closed } = await rawRequest(port, input, { timeoutMs: 2000 });
        assert.deepEqual(parseResponses(text).map((r) => r.status), [400], JSON.stringify(text.slice(0, 200)));
        assert.equal(closed, true);
        await stillServing();
      });
    }
  });
}
