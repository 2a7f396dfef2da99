/** Helpers shared by the fault tests (not a test file itself). */
import { serve } from "../../mod.ts";
import type { Server, ServeOptions } from "../../mod.ts";

export const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, polling every 10 ms; throws after `ms` naming `what`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not in ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** A server on a free loopback port, listening. */
export async function start(options: Partial<ServeOptions> & Pick<ServeOptions, "fetch">): Promise<Server> {
  const server = serve({ port: 0, hostname: "127.0.0.1", ...options });
  await server.ready;
  return server;
}
