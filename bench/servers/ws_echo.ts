// WebSocket bench server, one file for every contender (bench/ws_bench.ts starts it):
//   <runtime> bench/servers/ws_echo.ts <kind> <port>
// kind: anyserve (Bun-shaped websocket option, on whichever runtime runs it), bun-native
// (Bun.serve websocket), deno-native (Deno.serve + Deno.upgradeWebSocket), node-ws
// (@hono/node-server + the ws package). Protocol: a text message "b" broadcasts a 64-byte
// text to every open socket (a topic where the server has them); anything else is echoed.
const [kind, portArg] = (globalThis as any).Deno ? (globalThis as any).Deno.args : process.argv.slice(2);
const port = Number(portArg);
const PAYLOAD = "x".repeat(64);
const g = globalThis as any;

if (kind === "anyserve") {
  const { serve } = await import("../../mod.ts");
  const server = serve({
    port,
    hostname: "127.0.0.1",
    maxConnections: 60_000,
    fetch: (req, env) => (env.upgrade(req) ? undefined : new Response("ws only", { status: 400 })),
    websocket: {
      sendPings: false,
      open: (ws) => ws.subscribe("all"),
      message(ws, m) {
        if (m === "b") server.publish("all", PAYLOAD);
        else ws.send(m);
      },
    },
  });
  await server.ready;
} else if (kind === "bun-native") {
  const server = g.Bun.serve({
    port,
    hostname: "127.0.0.1",
    fetch: (req: Request, s: any) => (s.upgrade(req) ? undefined : new Response("ws only", { status: 400 })),
    websocket: {
      sendPings: false,
      open: (ws: any) => ws.subscribe("all"),
      message(ws: any, m: string | Uint8Array) {
        if (m === "b") server.publish("all", PAYLOAD);
        else ws.send(m);
      },
    },
  });
} else if (kind === "deno-native") {
  const all = new Set<WebSocket>();
  g.Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, (req: Request) => {
    const { socket, response } = g.Deno.upgradeWebSocket(req);
    socket.onopen = () => all.add(socket);
    socket.onclose = () => all.delete(socket);
    socket.onmessage = (e: MessageEvent) => {
      if (e.data === "b") for (const s of all) s.send(PAYLOAD);
      else socket.send(e.data);
    };
    return response;
  });
} else if (kind === "node-ws") {
  const { serve } = await import("@hono/node-server");
  const { WebSocketServer } = await import("ws");
  const server = serve({ fetch: () => new Response("ws only", { status: 400 }), port, hostname: "127.0.0.1" });
  const wss = new WebSocketServer({ server: server as any, perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("message", (d, isBinary) => {
      if (!isBinary && (d as Buffer).length === 1 && (d as Buffer)[0] === 98) for (const c of wss.clients) c.send(PAYLOAD);
      else ws.send(d, { binary: isBinary });
    });
  });
} else throw new Error(`unknown kind ${kind}`);
console.log("listening");
