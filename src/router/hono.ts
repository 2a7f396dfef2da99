/**
 * `AnyRouter`: the radix tree behind Hono's `Router<T>` interface, so that
 * `new Hono({ router: new AnyRouter() })` routes with it. It imports nothing
 * from Hono; the interface is matched structurally.
 *
 * @module
 */

import {
  captureNames,
  expandOptional,
  isStatic,
  type MatchVisitor,
  parsePattern,
  RadixTree,
} from "./radix_tree.ts";

/**
 * Parameters of one matched handler, by name (raw, not percent-decoded: Hono
 * decodes them itself).
 *
 * @example
 * ```ts
 * const params: HonoParams = { id: "123" };
 * ```
 */
export type HonoParams = Record<string, string>;

/**
 * What {@link AnyRouter.match} returns: every matching handler with its
 * parameters, in registration order. This is the second form of Hono's
 * `Result<T>`.
 *
 * @example
 * ```ts
 * const result: HonoMatchResult<string> = [[["handler", { id: "1" }]]];
 * ```
 */
export type HonoMatchResult<T> = [[T, HonoParams][]];

/** The method name Hono uses for routes that match every method. */
const METHOD_NAME_ALL = "ALL";

const EMPTY: HonoParams = Object.freeze(Object.create(null) as HonoParams);

interface Entry<T> {
  handler: T;
  names: string[];
  order: number;
}

interface Table<T> {
  tree: RadixTree<Entry<T>[]>;
  statics: Set<string>;
  /** Results for the static paths (null-prototype object), built on first match. */
  cache: Record<string, HonoMatchResult<T> | undefined> | null;
}

/** Collects matches in registration order while the tree is walked. */
class Collector<T> implements MatchVisitor<Entry<T>[]> {
  results: [T, HonoParams][] = [];
  orders: number[] = [];

  visit(store: Entry<T>[], path: string, captures: number[]): void {
    const results = this.results;
    const orders = this.orders;
    for (let e = 0; e < store.length; e++) {
      const entry = store[e]!;
      const order = entry.order;
      // A route matches at most once, even when a pattern parameter could
      // split the path in several ways (the first split, shortest first, wins).
      if (orders.includes(order)) continue;
      const names = entry.names;
      let params = EMPTY;
      if (names.length !== 0) {
        params = {};
        for (let i = 0; i < names.length; i++) {
          const name = names[i]!;
          if (name !== "") params[name] = path.slice(captures[2 * i]!, captures[2 * i + 1]);
        }
      }
      const item: [T, HonoParams] = [entry.handler, params];
      let i = results.length;
      results.push(item);
      orders.push(order);
      while (i > 0 && orders[i - 1]! > order) {
        results[i] = results[i - 1]!;
        orders[i] = orders[i - 1]!;
        i--;
      }
      results[i] = item;
      orders[i] = order;
    }
  }
}

/**
 * A Hono `Router<T>` backed by anyserve's radix tree. It returns every
 * handler whose path matches (middleware included) in registration order,
 * with per-handler parameters, as Hono's own routers do: named parameters,
 * `:name{regexp}` (which may span `/`), optional parameters, `*` and `/*`
 * wildcards, host-name prefixed paths, and routes added after a match.
 * Results for paths registered as static routes are computed once and
 * returned without allocation.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { AnyRouter } from "anyserve/router";
 *
 * const app = new Hono({ router: new AnyRouter() });
 * app.get("/users/:id", (c) => c.text(c.req.param("id")));
 * ```
 */
export class AnyRouter<T> {
  /** The router's name, as Hono reports it. */
  name = "AnyRouter";
  #tables: Map<string, Table<T>> = new Map();
  #allRoutes: [string, T, number][] = [];
  #order = 0;

  constructor() {
    this.#table(METHOD_NAME_ALL);
  }

  #table(method: string): Table<T> {
    let table = this.#tables.get(method);
    if (table === undefined) {
      table = { tree: new RadixTree<Entry<T>[]>(), statics: new Set(), cache: null };
      this.#tables.set(method, table);
      if (method !== METHOD_NAME_ALL) {
        for (const [path, handler, order] of this.#allRoutes) this.#insert(table, path, handler, order);
      }
    }
    return table;
  }

  #insert(table: Table<T>, path: string, handler: T, order: number): void {
    table.cache = null;
    for (const variant of expandOptional(path)) {
      const tokens = parsePattern(variant);
      const entry: Entry<T> = { handler, names: captureNames(tokens, ""), order };
      if (isStatic(tokens)) table.statics.add(tokens.length === 0 ? "" : tokens[0]!.text);
      table.tree.insert(tokens, (existing) => {
        if (existing === null) return [entry];
        existing.push(entry);
        return existing;
      });
    }
  }

  /** Adds a route: `method` is an HTTP method or `"ALL"`. */
  add(method: string, path: string, handler: T): void {
    const order = ++this.#order;
    if (path === "/*") path = "*";
    if (method === METHOD_NAME_ALL) {
      this.#allRoutes.push([path, handler, order]);
      for (const table of this.#tables.values()) this.#insert(table, path, handler, order);
    } else {
      this.#insert(this.#table(method), path, handler, order);
    }
  }

  #collect(table: Table<T>, path: string): HonoMatchResult<T> {
    const collector = new Collector<T>();
    table.tree.findAll(path, collector);
    return [collector.results];
  }

  /** Returns every handler matching `method` and `path`, in registration order. */
  match(method: string, path: string): HonoMatchResult<T> {
    const table = this.#tables.get(method) ?? this.#tables.get(METHOD_NAME_ALL)!;
    let cache = table.cache;
    if (cache === null) {
      cache = table.cache = Object.create(null) as Record<string, HonoMatchResult<T> | undefined>;
      for (const staticPath of table.statics) cache[staticPath] = this.#collect(table, staticPath);
    }
    return cache[path] ?? this.#collect(table, path);
  }
}
