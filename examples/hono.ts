// A Hono app served by anyserve. Run: npm run example (Node 24), or
//   node_modules/.bin/deno run -A examples/hono.ts
//   node_modules/.bin/bun examples/hono.ts
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { type ConnInfo, serve } from "../mod.ts";

const app = new Hono<{ Bindings: ConnInfo }>();
app.get("/", (c) => c.text("Hello from anyserve!"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/echo", async (c) => c.json(await c.req.json()));
app.get("/ip", (c) => c.text(c.env.remoteAddr.hostname));
app.get("/sse", (c) =>
  streamSSE(c, async (s) => {
    for (let i = 0; i < 3; i++) {
      await s.writeSSE({ data: `tick ${i}` });
      await s.sleep(500);
    }
  }));

const port = Number(globalThis.process?.env?.PORT ?? 3000);
const server = serve({
  fetch: app.fetch,
  port,
  onListen: ({ hostname, port }) => console.log(`Listening on http://${hostname}:${port}/`),
});
// Ctrl-C: finish in-flight requests, then exit.
globalThis.process?.on?.("SIGINT", () => server.close().then(() => globalThis.process.exit(0)));
