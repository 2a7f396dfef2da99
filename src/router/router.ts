/**
 * The standalone router: method + path to one handler, with a `fetch`
 * function that answers 404, 405 (with `Allow`) and automatic HEAD.
 *
 * @module
 */

import { captureNames, expandOptional, isStatic, parsePattern, RadixTree } from "./radix_tree.ts";

/**
 * Route parameters by name; a wildcard's value is under `"*"`.
 *
 * @example
 * ```ts
 * const params: Params = { id: "42" };
 * ```
 */
export type Params = Record<string, string>;

/**
 * A route handler: the request and the decoded route parameters.
 *
 * @example
 * ```ts
 * const handler: RouteHandler = (_req, params) => new Response(params.id);
 * ```
 */
export type RouteHandler = (request: Request, params: Params) => Response | Promise<Response>;

/**
 * The result of {@link Router.find}.
 *
 * @example
 * ```ts
 * const match: RouteMatch<string> = { handler: "users", params: { id: "1" } };
 * ```
 */
export interface RouteMatch<H> {
  /** The handler registered for the route. */
  handler: H;
  /** The route parameters (shared and frozen when the route has none). */
  params: Params;
}

/** Method name that matches every method. */
export const METHOD_ALL = "ALL";

/** The frozen params object of routes without parameters. */
export const EMPTY_PARAMS: Params = Object.freeze(Object.create(null) as Params);

/** What the router keeps per (method, pattern). */
interface Route<H> {
  handler: H;
  names: string[];
  /** Registered with `ALL` (a method-specific route replaces it). */
  all: boolean;
  /** Precomputed match for routes without parameters. */
  match: RouteMatch<H> | null;
  pattern: string;
}

/** Routes of one method: a map for static paths, a radix tree for the rest. */
interface MethodTable<H> {
  /** Null-prototype object: a little faster than a Map for string keys. */
  statics: Record<string, Route<H> | undefined>;
  tree: RadixTree<Route<H>>;
}

function decodeParam(value: string): string {
  if (value.indexOf("%") === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Options of {@link Router}.
 *
 * @example
 * ```ts
 * const options: RouterOptions = { notFound: () => new Response("nope", { status: 404 }) };
 * ```
 */
export interface RouterOptions {
  /** Answers requests no route matches (default: empty 404). */
  notFound?: (request: Request) => Response | Promise<Response>;
}

/**
 * A radix-tree router. Register routes per method (or with `all`), then use
 * {@link Router.fetch} as a fetch handler, or {@link Router.find} directly.
 *
 * Priority (deterministic, independent of registration order): static text,
 * then parameters with a pattern (in registration order), then plain
 * parameters, then wildcards; at the same pattern a method-specific route wins
 * over an `all` route. Registering the same method and pattern twice throws.
 *
 * `fetch` answers 404 when no route matches the path, 405 with an `Allow`
 * header when routes match the path for other methods only, and serves HEAD
 * requests from GET routes (without a body) when no HEAD route matches.
 *
 * @example
 * ```ts
 * const router = new Router();
 * router.get("/users/:id", (_req, params) => Response.json({ id: params.id }));
 * router.get("/static/*", (_req, params) => new Response(params["*"]));
 * const res = await router.fetch(new Request("http://localhost/users/42"));
 * ```
 */
export class Router<H extends RouteHandler = RouteHandler> {
  #tables: Map<string, MethodTable<H>> = new Map();
  #allRoutes: [string, H][] = [];
  #notFound: ((request: Request) => Response | Promise<Response>) | undefined;

  /**
   * Makes an empty router.
   * @param options what to answer when nothing matches
   */
  constructor(options: RouterOptions = {}) {
    this.#notFound = options.notFound;
    this.#table(METHOD_ALL);
  }

  #table(method: string): MethodTable<H> {
    let table = this.#tables.get(method);
    if (table === undefined) {
      table = { statics: Object.create(null) as Record<string, Route<H> | undefined>, tree: new RadixTree<Route<H>>() };
      this.#tables.set(method, table);
      if (method !== METHOD_ALL) {
        for (const [path, handler] of this.#allRoutes) this.#insert(table, path, handler, true);
      }
    }
    return table;
  }

  #insert(table: MethodTable<H>, pattern: string, handler: H, all: boolean): void {
    for (const variant of expandOptional(pattern)) {
      const tokens = parsePattern(variant);
      const names = captureNames(tokens, "*");
      const route: Route<H> = {
        handler,
        names,
        all,
        match: names.length === 0 ? { handler, params: EMPTY_PARAMS } : null,
        pattern,
      };
      const update = (existing: Route<H> | null): Route<H> => {
        if (existing === null || (existing.all && !all)) return route;
        if (all && !existing.all) return existing;
        throw new Error(`Route already registered: ${existing.pattern} (as ${pattern})`);
      };
      if (isStatic(tokens)) {
        const path = tokens.length === 0 ? "" : tokens[0]!.text;
        table.statics[path] = update(table.statics[path] ?? null);
      } else {
        table.tree.insert(tokens, update);
      }
    }
  }

  /**
   * Registers `handler` for `method` (or each of `methods`; `"ALL"` for every
   * method) and `pattern`. Method names are case-sensitive, as in HTTP.
   */
  on(method: string | string[], pattern: string, handler: H): this {
    for (const m of typeof method === "string" ? [method] : method) {
      if (m === METHOD_ALL) {
        this.#allRoutes.push([pattern, handler]);
        for (const table of this.#tables.values()) this.#insert(table, pattern, handler, true);
      } else {
        this.#insert(this.#table(m), pattern, handler, false);
      }
    }
    return this;
  }

  /** Registers a GET route (also answering HEAD unless a HEAD route matches). */
  get(pattern: string, handler: H): this {
    return this.on("GET", pattern, handler);
  }

  /** Registers a POST route. */
  post(pattern: string, handler: H): this {
    return this.on("POST", pattern, handler);
  }

  /** Registers a PUT route. */
  put(pattern: string, handler: H): this {
    return this.on("PUT", pattern, handler);
  }

  /** Registers a PATCH route. */
  patch(pattern: string, handler: H): this {
    return this.on("PATCH", pattern, handler);
  }

  /** Registers a DELETE route. */
  delete(pattern: string, handler: H): this {
    return this.on("DELETE", pattern, handler);
  }

  /** Registers a HEAD route. */
  head(pattern: string, handler: H): this {
    return this.on("HEAD", pattern, handler);
  }

  /** Registers an OPTIONS route. */
  options(pattern: string, handler: H): this {
    return this.on("OPTIONS", pattern, handler);
  }

  /** Registers a route for every method. */
  all(pattern: string, handler: H): this {
    return this.on(METHOD_ALL, pattern, handler);
  }

  #lookup(table: MethodTable<H>, path: string): RouteMatch<H> | null {
    const route = table.statics[path];
    if (route !== undefined) return route.match;
    const tree = table.tree;
    const found = tree.find(path);
    if (found === null) return null;
    if (found.match !== null) return found.match;
    const names = found.names;
    const captures = tree.captures;
    const params: Params = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name !== "") params[name] = decodeParam(path.slice(captures[2 * i]!, captures[2 * i + 1]));
    }
    return { handler: found.handler, params };
  }

  /**
   * Finds the route for `method` and `path` (the raw pathname, without query
   * string). Does not apply the HEAD-to-GET fallback; returns `null` when no
   * route matches. Static routes return a shared object and allocate nothing.
   */
  find(method: string, path: string): RouteMatch<H> | null {
    const table = this.#tables.get(method) ?? this.#tables.get(METHOD_ALL)!;
    return this.#lookup(table, path);
  }

  /**
   * The methods with a route matching `path`, sorted; includes `HEAD` when
   * `GET` is there. Empty when nothing matches. An `ALL` route makes every
   * registered method allowed.
   */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const [method, table] of this.#tables) {
      if (method !== METHOD_ALL && this.#lookup(table, path) !== null) methods.add(method);
    }
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  }

  /**
   * A fetch handler routing `request`: use as `serve({ fetch: router.fetch })`
   * (it is bound to the router).
   */
  fetch = (request: Request): Response | Promise<Response> => {
    const url = request.url;
    let start = url.indexOf("/", url.indexOf("://") + 3);
    let end = url.length;
    if (start === -1) start = end;
    for (let i = start; i < end; i++) {
      const c = url.charCodeAt(i);
      if (c === 63 || c === 35) {
        end = i;
        break;
      }
    }
    const path = start === end ? "/" : url.slice(start, end);
    const method = request.method;
    let match = this.find(method, path);
    if (match !== null) return match.handler(request, match.params);
    if (method === "HEAD") {
      match = this.find("GET", path);
      if (match !== null) return withoutBody(match.handler(request, match.params));
    }
    const allowed = this.allowed(path);
    if (allowed.length !== 0) {
      return new Response(null, { status: 405, headers: { allow: allowed.join(", ") } });
    }
    if (this.#notFound !== undefined) return this.#notFound(request);
    return new Response(null, { status: 404 });
  };
}

async function withoutBody(response: Response | Promise<Response>): Promise<Response> {
  const res = await response;
  if (res.body !== null) await res.body.cancel();
  return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
}
