// The one Hono app every (non-raw) server under test serves.
import { Hono } from "hono";

export const app = new Hono();

app.get("/", (c) => c.text("Hello, World!"));
app.get("/user/:id", (c) => c.text(`User ${c.req.param("id")}`));
app.post("/echo", async (c) => c.text(await c.req.text()));

export default app;
