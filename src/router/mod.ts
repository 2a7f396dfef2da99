/**
 * anyserve's radix-tree router, usable on its own or as a Hono router.
 *
 * Standalone: register handlers on a {@link Router} and serve its `fetch`;
 * it answers 404, 405 with `Allow`, and HEAD from GET routes.
 *
 * With Hono: pass an {@link AnyRouter} as Hono's `router` option.
 *
 * Pattern syntax: static text, `:name`, `:name{regexp}`, trailing optional
 * `:name?`, tail wildcard `/path/*` (value in `params["*"]`) and rest
 * wildcard `*`. Priority: static, then pattern parameters, then plain
 * parameters, then wildcards, regardless of registration order.
 *
 * @example
 * ```ts
 * import { Router } from "anyserve/router";
 *
 * const router = new Router();
 * router.get("/users/:id", (_req, params) => Response.json({ id: params.id }));
 * router.get("/files/:name{[a-z]+\\.png}", (_req, params) => new Response(params.name));
 * // serve({ fetch: router.fetch });
 * ```
 *
 * @module
 */

export { EMPTY_PARAMS, METHOD_ALL, Router } from "./router.ts";
export type { Params, RouteHandler, RouteMatch, RouterOptions } from "./router.ts";
export { AnyRouter } from "./hono.ts";
export type { HonoMatchResult, HonoParams } from "./hono.ts";
