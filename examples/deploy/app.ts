// The app the deploy recipes run: `anyserve --health app.ts` answers /healthz and /readyz itself.
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("hello from anyserve\n"));
export default app;
