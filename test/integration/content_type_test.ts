// The Content-Type a body implies (issue 9.3): anyserve sends what the
// runtime's own Response reports in `headers` (Node, Deno) or what Bun.serve
// sends (Bun, whose Response leaves a string's type out of `headers`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve, type Server } from "../../mod.ts";

const g = globalThis as Record<string, unknown>;
const RUNTIME = "Bun" in g ? "bun" : "Deno" in g ? "deno" : "node";
const enc = new TextEncoder();

function form(): FormData {
  const fd = new FormData();
  fd.append("a", "1");
  return fd;
}
function stream(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(enc.encode("streamed"));
      c.close();
    },
  });
}

const CASES: Record<string, () => Response> = {
  "string": () => new Response("héllo wörld"),
  "empty string": () => new Response(""),
  "string with its own type": () => new Response("<p>x</p>", { headers: { "content-type": "text/html" } }),
  "string with other fields": () => new Response("x", { status: 401, headers: { "x-a": "b" } }),
  "URLSearchParams": () => new Response(new URLSearchParams({ a: "1", b: "two words" })),
  "URLSearchParams with init": () => new Response(new URLSearchParams("a=1"), { status: 200 }),
  "FormData": () => new Response(form()),
  "Blob with a type": () => new Response(new Blob(["blob"], { type: "application/x-blob" })),
  "Blob without a type": () => new Response(new Blob(["blob"])),
  "Blob of bytes without a type": () => new Response(new Blob([enc.encode("blob")])),
  "ReadableStream": () => new Response(stream()),
  "Uint8Array": () => new Response(enc.encode("bytes")),
  "empty Uint8Array": () => new Response(new Uint8Array(0)),
  "ArrayBuffer": () => new Response(enc.encode("bytes").buffer),
  "another Response's body": () => new Response(new Response("Unauthorized").body, { status: 401 }),
  "another Response's URLSearchParams body": () => new Response(new Response(new URLSearchParams("a=1")).body),
};

/**
 * Bun only: what anyserve sends where it differs from Bun.serve (in the
 * second field). Bun's Response holds these bodies alike and reports
 * `text/plain;charset=utf-8` for each (`(await res.blob()).type`), so
 * anyserve cannot tell bytes from a string (see adapters/bun/implied_type.ts).
 */
const BUN_DIFFERS: Record<string, [anyserve: string, bunServe: string]> = {
  "Blob of bytes without a type": ["text/plain;charset=utf-8", "application/octet-stream"],
  "Uint8Array": ["text/plain;charset=utf-8", "application/octet-stream"],
  "ArrayBuffer": ["text/plain;charset=utf-8", "application/octet-stream"],
  "another Response's body": ["text/plain;charset=utf-8", "application/octet-stream"],
  "another Response's URLSearchParams body": ["text/plain;charset=utf-8", "application/x-www-form-urlencoded;charset=UTF-8"],
};

type BunServe = (o: { port: number; hostname: string; fetch: (r: Request) => Response }) => { port: number; stop(force?: boolean): unknown };

async function typeFrom(port: number, name: string): Promise<{ type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/?case=${encodeURIComponent(name)}`);
  return { type: res.headers.get("content-type"), body: await res.text() };
}

const handler = (req: Request): Response => CASES[new URL(req.url).searchParams.get("case")!]!();

describe(`implied Content-Type on ${RUNTIME}`, () => {
  let server: Server;
  let native: { port: number; stop(force?: boolean): unknown } | null = null;
  before(async () => {
    server = serve({ fetch: handler, port: 0, hostname: "127.0.0.1" });
    await server.ready;
    if (RUNTIME === "bun") native = (g.Bun as { serve: BunServe }).serve({ port: 0, hostname: "127.0.0.1", fetch: handler });
  });
  after(async () => {
    await server.close();
    await native?.stop(true);
  });

  for (const name of Object.keys(CASES)) {
    it(name, async () => {
      const got = await typeFrom(server.address.port, name);
      let want: string | null;
      if (native !== null) {
        const bun = (await typeFrom(native.port, name)).type;
        const differs = BUN_DIFFERS[name];
        if (differs !== undefined) {
          assert.equal(bun, differs[1], "Bun.serve's type changed: update BUN_DIFFERS");
          want = differs[0];
        } else want = bun;
      } else want = CASES[name]!().headers.get("content-type");
      if (want?.startsWith("multipart/form-data; boundary=") && got.type?.startsWith("multipart/form-data; boundary=")) {
        // A boundary is drawn per body: the one sent must be the body's.
        const boundary = got.type.slice("multipart/form-data; boundary=".length);
        assert.ok(got.body.startsWith(`--${boundary}\r\n`), `boundary ${boundary} not in body ${JSON.stringify(got.body.slice(0, 80))}`);
      } else assert.equal(got.type, want);
    });
  }
});
