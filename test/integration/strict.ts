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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INJECTED = "Set-Cookie: injected=1";

/** A response-shaped object, as another fetch implementation might return. */
function duck(init: { status?: number; statusText?: string; fields?: [string, string][]; body?: "none" | "fixed" | "stream" }): Response {
  const fields = init.fields ?? [];
  const body = init.body === "fixed"
    ? new Response("fixed body").body
    : init.body === "stream"
    ? new ReadableStream<Uint8Array>({
      async pull(c) {
        await sleep(30); // pending past the settle hops: the head goes out first
        c.enqueue(new TextEncoder().encode("streamed body"));
        c.close();
      },
    })
    : null;
  return {
    status: init.status ?? 200,
    statusText: init.statusText ?? "",
    headers: { forEach: (fn: (value: string, name: string) => void) => fields.forEach(([n, v]) => fn(v, n)), get: () => null },
    body,
    bodyUsed: false,
  } as unknown as Response;
}

/** How the suite starts a server on the runtime under test. */
export type ServeFn = (options: ServeOptions) => Server;

/** Registers the suite for `runtime`. */
export function defineStrictSuite(runtime: string, serve: ServeFn): void {
  describe(`anyserve on ${runtime}: strict input, checked output`, () => {
    let server: Server;
    let port = 0;
    const routes: Record<string, () => Response> = {
      "/": () => new Response("ok"),
      // Bun's Response takes any statusText; Node's and Deno's throw (a 500 then).
      "/native-status-crlf": () => new Response("x", { statusText: `OK\r\n${INJECTED}` }),
      "/native-status-wide": () => new Response("x", { statusText: `OK\u010d\u010a${INJECTED}` }),
      "/native-status-nul": () => new Response("x", { statusText: "O\0K" }),
      "/native-status-custom": () => new Response("x", { statusText: "Fine \tthanks\xe9" }),
    };
    // Duck-typed responses reach the writer whatever they hold.
    const ducks: [string, Parameters<typeof duck>[0], number][] = [
      ["status text with CRLF", { statusText: `OK\r\n${INJECTED}` }, 200],
      ["status text with a character above 0xFF", { statusText: `OK\u010d\u010a${INJECTED}` }, 200],
      ["status text with LF only", { statusText: `OK\n${INJECTED}` }, 200],
      ["status text with DEL", { statusText: "O\x7fK" }, 200],
      ["status 20", { status: 20 }, 500],
      ["status 2000", { status: 2000 }, 500],
      ["status 200.5", { status: 200.5 }, 500],
      ["value with CRLF", { fields: [["x-a", `1\r\n${INJECTED}`]] }, 500],
      ["value with CRLF, fixed body", { fields: [["x-a", `1\r\n${INJECTED}`]], body: "fixed" }, 500],
      ["value with CRLF, streamed body", { fields: [["x-a", `1\r\n${INJECTED}`]], body: "stream" }, 500],
      ["value with a character above 0xFF", { fields: [["x-a", `1\u010d\u010a${INJECTED}`]] }, 500],
      ["value with NUL", { fields: [["x-a", "1\0"]] }, 500],
      ["value with LF", { fields: [["x-a", `1\n${INJECTED}`]] }, 500],
      ["name with CRLF", { fields: [[`${INJECTED}\r\nx-a`, "1"]] }, 500],
      ["name with a space", { fields: [["x a", "1"]] }, 500],
      ["name with a colon", { fields: [["set-cookie: injected=1\r\nx", "1"]] }, 500],
      ["empty name", { fields: [["", "1"]] }, 500],
      ["name with a character above 0xFF", { fields: [["x-\u010a", "1"]] }, 500],
    ];
    ducks.forEach(([name, init], k) => {
      routes[`/duck/${k}`] = () => duck(init);
      void name;
    });

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

    it("a native Response's status text never adds a line to the head", async () => {
      for (const path of ["/native-status-crlf", "/native-status-wide", "/native-status-nul"]) {
        const { text } = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
        assert.ok(!text.toLowerCase().includes("injected"), `${path}: ${JSON.stringify(text)}`);
        const rs = parseResponses(text);
        assert.deepEqual(rs.map((r) => r.status).slice(-1), [200], `${path}: ${JSON.stringify(text)}`);
        assert.equal(rs.length, 2, `${path}: ${JSON.stringify(text)}`);
        // Bun builds the Response: the standard phrase replaces its text. Node and Deno refuse it: 500.
        assert.match(text, /^HTTP\/1\.1 (200 OK|500 Internal Server Error)\r\n/, path);
      }
    });

    it("a valid custom status text (SP, HTAB, obs-text) is kept", async () => {
      const { text } = await rawRequest(port, "GET /native-status-custom HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      assert.ok(text.startsWith("HTTP/1.1 200 Fine \tthanks\xe9\r\n"), JSON.stringify(text.slice(0, 60)));
    });

    ducks.forEach(([name, , status], k) => {
      it(`a duck-typed response with ${name}: ${status}, nothing injected, connection kept`, async () => {
        const { text, closed } = await rawRequest(port, `GET /duck/${k} HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
        assert.ok(!text.toLowerCase().includes("injected"), JSON.stringify(text));
        assert.ok(!text.includes("\0"), JSON.stringify(text));
        const rs = parseResponses(text);
        assert.deepEqual(rs.map((r) => r.status), [status, 200], JSON.stringify(text));
        if (status === 200) assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n"), JSON.stringify(text.slice(0, 40)));
        assert.equal(closed, true);
      });
    });

    it("HEAD with an invalid field: 500 and the connection closed (its error body is not for a HEAD)", async () => {
      const k = ducks.findIndex(([name]) => name === "value with CRLF");
      const { text, closed } = await rawRequest(port, `HEAD /duck/${k} HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.ok(text.startsWith("HTTP/1.1 500 Internal Server Error\r\n"), JSON.stringify(text.slice(0, 40)));
      assert.match(text, /\r\nConnection: close\r\n/);
      assert.ok(!text.toLowerCase().includes("injected"));
      assert.equal(text.split("HTTP/1.1 ").length - 1, 1, "nothing answered after the close");
      assert.equal(closed, true);
    });

    it("a duck-typed response's framing fields in any case are the server's", async () => {
      routes["/duck-framing"] = () =>
        duck({ fields: [["Content-Length", "999"], ["Transfer-Encoding", "chunked"], ["X-Kept", "yes"]], body: "fixed" });
      const { text } = await rawRequest(port, "GET /duck-framing HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      const rs = parseResponses(text);
      assert.deepEqual(rs.map((r) => [r.status, r.body]), [[200, "fixed body"], [200, "ok"]], JSON.stringify(text));
      assert.equal(rs[0].headers["content-length"], "10");
      assert.equal(rs[0].headers["transfer-encoding"], undefined);
      assert.equal(rs[0].headers["x-kept"], "yes");
    });
  });
}
