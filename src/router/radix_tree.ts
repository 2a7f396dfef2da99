/**
 * A character-level radix tree for URL path patterns, shared by the
 * standalone {@link Router} and the Hono adapter `AnyRouter`.
 *
 * Pattern syntax (one pattern string is parsed into {@link Token}s):
 *
 * - static text: `/users/list` (may be any characters, including a host name
 *   prefix such as `example.com/hello`);
 * - named parameter: `/users/:id`, matching one non-empty segment (no `/`);
 * - parameter with a pattern: `/files/:name{[a-z]+\.png}`; the regular
 *   expression is anchored to the captured value, and the value may span
 *   several segments when the expression allows `/`, or be empty (an empty
 *   last segment, `/files/` for `/files/:name{.*}`) when it allows "";
 * - optional parameters: `/api/:version?` (trailing ones only), expanded by
 *   {@link expandOptional} into one pattern per variant;
 * - tail wildcard: `/static/*`, matching `/static`, `/static/` and
 *   `/static/anything/below`; its captured value is what follows `/static/`;
 * - rest wildcard: `*` or `/prefix*` (a `*` not preceded by `/`), matching any
 *   remaining characters;
 * - a `*` segment in the middle (`/a/*\/b`) matches one non-empty segment and
 *   is captured without a name.
 *
 * Priority for first-match lookups ({@link RadixTree.find}) is fixed and does
 * not depend on registration order: at every position a static edge is tried
 * first, then pattern parameters (in registration order), then the plain
 * parameter, then the tail wildcard, then the rest wildcard; a failed branch
 * backtracks to the next candidate.
 *
 * @module
 */

/** Token kind: static text. */
export const TOKEN_STATIC = 0;
/** Token kind: named parameter, one non-empty segment. */
export const TOKEN_PARAM = 1;
/** Token kind: parameter constrained by a regular expression. */
export const TOKEN_PATTERN = 2;
/** Token kind: tail wildcard `/*` (empty rest, or `/` and anything). */
export const TOKEN_TAIL = 3;
/** Token kind: rest wildcard `*` (any remaining characters). */
export const TOKEN_REST = 4;

/**
 * One parsed piece of a route pattern.
 *
 * @example
 * ```ts
 * const token: Token = { kind: TOKEN_PARAM, text: "id" };
 * ```
 */
export interface Token {
  /** One of the `TOKEN_*` constants. */
  kind: number;
  /** Static text, or the parameter name (`""` for an unnamed capture). */
  text: string;
  /** Regular expression source, for {@link TOKEN_PATTERN} only. */
  source: string;
}

const SLASH = 47;
const COLON = 58;
const STAR = 42;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const BACKSLASH = 92;

/**
 * Expands trailing optional parameters (`/:a?/:b?`) into the list of concrete
 * patterns they stand for, shortest first; returns `[pattern]` when the
 * pattern has none. Empty segments before an optional parameter are dropped,
 * as Hono does.
 *
 * @example
 * ```ts
 * expandOptional("/v1/:version?/:platform?");
 * // ["/v1", "/v1/:version", "/v1/:version/:platform"]
 * ```
 */
export function expandOptional(pattern: string): string[] {
  if (pattern.charCodeAt(pattern.length - 1) !== 63 || !pattern.includes(":")) {
    return [pattern];
  }
  const results: string[] = [];
  let base = "";
  for (const segment of pattern.split("/")) {
    if (segment === "") continue;
    if (segment.charCodeAt(0) === COLON && segment.charCodeAt(segment.length - 1) === 63) {
      const variant = base === "" ? "/" : base;
      if (!results.includes(variant)) results.push(variant);
      base += "/" + segment.slice(0, -1);
      if (!results.includes(base)) results.push(base);
    } else {
      base += "/" + segment;
    }
  }
  return results;
}

/** Finds the index of the `}` that closes the `{` at `open`, or -1. */
function closingBrace(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === OPEN_BRACE) depth++;
    else if (c === CLOSE_BRACE && --depth === 0) return i;
  }
  return -1;
}

/**
 * Parses one route pattern (without optional parameters: see
 * {@link expandOptional}) into tokens. Throws a `TypeError` for a pattern it
 * cannot represent (text after a parameter in the same segment, a `*` inside
 * a segment, an unclosed `{`, an invalid regular expression).
 *
 * @example
 * ```ts
 * parsePattern("/users/:id/*");
 * // [{kind: TOKEN_STATIC, text: "/users/"}, {kind: TOKEN_PARAM, text: "id"},
 * //  {kind: TOKEN_TAIL, text: "*"}]
 * ```
 */
export function parsePattern(pattern: string): Token[] {
  const tokens: Token[] = [];
  let text = "";
  const len = pattern.length;
  let i = 0;
  while (i < len) {
    const c = pattern.charCodeAt(i);
    const atSegmentStart = i === 0 || pattern.charCodeAt(i - 1) === SLASH;
    if (c === COLON && atSegmentStart) {
      if (text !== "") tokens.push({ kind: TOKEN_STATIC, text, source: "" });
      text = "";
      let j = i + 1;
      while (j < len) {
        const d = pattern.charCodeAt(j);
        if (d === SLASH || d === OPEN_BRACE) break;
        j++;
      }
      const name = pattern.slice(i + 1, j);
      if (name === "") throw new TypeError(`Empty parameter name in route "${pattern}"`);
      if (j < len && pattern.charCodeAt(j) === OPEN_BRACE) {
        const close = closingBrace(pattern, j);
        if (close === -1) throw new TypeError(`Unclosed "{" in route "${pattern}"`);
        const source = pattern.slice(j + 1, close);
        // Validate now so a bad expression fails at registration time.
        new RegExp(source);
        tokens.push({ kind: TOKEN_PATTERN, text: name, source });
        j = close + 1;
      } else {
        tokens.push({ kind: TOKEN_PARAM, text: name, source: "" });
      }
      if (j < len && pattern.charCodeAt(j) !== SLASH) {
        throw new TypeError(`Unexpected text after parameter "${name}" in route "${pattern}"`);
      }
      i = j;
      continue;
    }
    if (c === STAR) {
      if (i === len - 1) {
        if (text.charCodeAt(text.length - 1) === SLASH) {
          text = text.slice(0, -1);
          if (text !== "") tokens.push({ kind: TOKEN_STATIC, text, source: "" });
          tokens.push({ kind: TOKEN_TAIL, text: "*", source: "" });
        } else {
          if (text !== "") tokens.push({ kind: TOKEN_STATIC, text, source: "" });
          tokens.push({ kind: TOKEN_REST, text: "*", source: "" });
        }
        return tokens;
      }
      if (atSegmentStart && pattern.charCodeAt(i + 1) === SLASH) {
        if (text !== "") tokens.push({ kind: TOKEN_STATIC, text, source: "" });
        text = "";
        tokens.push({ kind: TOKEN_PARAM, text: "", source: "" });
        i++;
        continue;
      }
      throw new TypeError(`Unsupported "*" inside a segment in route "${pattern}"`);
    }
    text += pattern[i];
    i++;
  }
  if (text !== "") tokens.push({ kind: TOKEN_STATIC, text, source: "" });
  return tokens;
}

/**
 * The names of the captures a token list produces, in capture order: one per
 * parameter, pattern and wildcard (`wildcardName` for wildcards, `""` for an
 * unnamed capture). A repeated name keeps its first capture only (later ones
 * become `""`).
 *
 * @example
 * ```ts
 * captureNames(parsePattern("/:id/:id/*"), "*"); // ["id", "", "*"]
 * ```
 */
export function captureNames(tokens: Token[], wildcardName: string): string[] {
  const names: string[] = [];
  for (const token of tokens) {
    if (token.kind === TOKEN_STATIC) continue;
    const name = token.kind === TOKEN_TAIL || token.kind === TOKEN_REST ? wildcardName : token.text;
    names.push(name !== "" && names.includes(name) ? "" : name);
  }
  return names;
}

/**
 * Whether a token list is a single static text (or empty), so its routes can
 * be served from a plain map.
 *
 * @example
 * ```ts
 * isStatic(parsePattern("/about")); // true
 * ```
 */
export function isStatic(tokens: Token[]): boolean {
  return tokens.length === 0 || (tokens.length === 1 && tokens[0]!.kind === TOKEN_STATIC);
}

/** A parameter edge constrained by a regular expression. */
interface PatternEdge<S> {
  source: string;
  regexp: RegExp;
  /** Whether the expression may match `/` (then the value may span segments). */
  spans: boolean;
  node: RadixNode<S>;
}

/**
 * Conservatively decides whether a regular expression source can match a `/`
 * (answering `true` when unsure), so that patterns which cannot are tested
 * against a single segment only.
 *
 * @example
 * ```ts
 * canMatchSlash("[a-z]+\\.png"); // false
 * canMatchSlash(".+"); // true
 * ```
 */
export function canMatchSlash(source: string): boolean {
  // Escapes that cannot match "/" become a plain letter; \D, \S, \W and any
  // other escape (\x2f, \/, \p{...}) become "/".
  const s = source.replace(/\\(.)/g, (_, c: string) => ("dwsbB.-+*?()[]{}|^$".includes(c) ? "a" : "/"));
  if (s.includes("/") || s.includes(".") || s.includes("[^")) return true;
  for (const [, body] of s.matchAll(/\[([^\]]*)\]/g)) {
    for (let i = 1; i + 1 < body!.length; i++) {
      if (body![i] === "-" && body!.charCodeAt(i - 1) <= SLASH && body!.charCodeAt(i + 1) >= SLASH) return true;
    }
  }
  return false;
}

/** One node: a static prefix followed by static, parameter and wildcard edges. */
class RadixNode<S> {
  prefix: string;
  /** First character codes of the static children, parallel to `statics`. */
  keys: number[] = [];
  statics: RadixNode<S>[] = [];
  patterns: PatternEdge<S>[] | null = null;
  param: RadixNode<S> | null = null;
  store: S | null = null;
  tail: S | null = null;
  rest: S | null = null;

  constructor(prefix: string) {
    this.prefix = prefix;
  }
}

/**
 * Receives every route a path matches during {@link RadixTree.findAll}.
 *
 * @example
 * ```ts
 * const seen: string[] = [];
 * const visitor: MatchVisitor<string> = { visit: (store) => void seen.push(store) };
 * ```
 */
export interface MatchVisitor<S> {
  /**
   * Called once per matching store; `captures` holds `[start, end)` offsets
   * into `path` for each capture of the route, in capture order, and is
   * reused after the call returns.
   */
  visit(store: S, path: string, captures: number[]): void;
}

function commonPrefixLength(a: string, b: string): number {
  const max = a.length < b.length ? a.length : b.length;
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Descends from `node` through static text `text`, splitting and creating
 * nodes, and returns the node that ends exactly after `text`.
 */
function insertStatic<S>(node: RadixNode<S>, text: string): RadixNode<S> {
  while (text !== "") {
    const index = node.keys.indexOf(text.charCodeAt(0));
    if (index === -1) {
      const child = new RadixNode<S>(text);
      node.keys.push(text.charCodeAt(0));
      node.statics.push(child);
      return child;
    }
    let child = node.statics[index]!;
    const common = commonPrefixLength(child.prefix, text);
    if (common < child.prefix.length) {
      const split = new RadixNode<S>(child.prefix.slice(0, common));
      child.prefix = child.prefix.slice(common);
      split.keys.push(child.prefix.charCodeAt(0));
      split.statics.push(child);
      node.statics[index] = split;
      child = split;
    }
    node = child;
    text = text.slice(common);
  }
  return node;
}

function findFirst<S>(
  node: RadixNode<S>,
  path: string,
  pos: number,
  captures: number[],
  count: number,
): S | null {
  const len = path.length;
  if (pos === len) {
    if (node.store !== null) return node.store;
    // An empty last segment still meets the pattern parameters: one whose
    // expression matches "" (`/files/:name{.*}` on `/files/`) matches, with
    // an empty value, as in Hono's own routers.
    const patterns = node.patterns;
    if (patterns !== null) {
      for (let i = 0; i < patterns.length; i++) {
        const edge = patterns[i]!;
        if (edge.regexp.test("")) {
          captures[count] = captures[count + 1] = pos;
          const found = findFirst(edge.node, path, pos, captures, count + 2);
          if (found !== null) return found;
        }
      }
    }
  } else {
    const keys = node.keys;
    if (keys.length !== 0) {
      const c = path.charCodeAt(pos);
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === c) {
          const child = node.statics[i]!;
          const prefix = child.prefix;
          if (prefix.length === 1 || path.startsWith(prefix, pos)) {
            const found = findFirst(child, path, pos + prefix.length, captures, count);
            if (found !== null) return found;
          }
          break;
        }
      }
    }
    const patterns = node.patterns;
    if (patterns !== null) {
      for (let i = 0; i < patterns.length; i++) {
        const edge = patterns[i]!;
        // Longest candidate first (like a greedy regular expression); only
        // the current segment when the expression cannot match "/".
        let end = edge.spans ? len : path.indexOf("/", pos);
        if (end === -1) end = len;
        while (end >= pos) {
          if (edge.regexp.test(path.slice(pos, end))) {
            captures[count] = pos;
            captures[count + 1] = end;
            const found = findFirst(edge.node, path, end, captures, count + 2);
            if (found !== null) return found;
          }
          if (!edge.spans || end === pos) break;
          end = path.lastIndexOf("/", end - 1);
          if (end < pos) break;
        }
      }
    }
    const param = node.param;
    if (param !== null) {
      let end = path.indexOf("/", pos);
      if (end === -1) end = len;
      if (end > pos) {
        captures[count] = pos;
        captures[count + 1] = end;
        const found = findFirst(param, path, end, captures, count + 2);
        if (found !== null) return found;
      }
    }
  }
  if (node.tail !== null && (pos === len || path.charCodeAt(pos) === SLASH)) {
    captures[count] = pos === len ? pos : pos + 1;
    captures[count + 1] = len;
    return node.tail;
  }
  if (node.rest !== null) {
    captures[count] = pos;
    captures[count + 1] = len;
    return node.rest;
  }
  return null;
}

function findEvery<S>(
  node: RadixNode<S>,
  path: string,
  pos: number,
  captures: number[],
  count: number,
  visitor: MatchVisitor<S>,
): void {
  const len = path.length;
  if (pos === len) {
    if (node.store !== null) visitor.visit(node.store, path, captures);
    // An empty last segment still meets the pattern parameters (see findFirst).
    const patterns = node.patterns;
    if (patterns !== null) {
      for (let i = 0; i < patterns.length; i++) {
        const edge = patterns[i]!;
        if (edge.regexp.test("")) {
          captures[count] = captures[count + 1] = pos;
          findEvery(edge.node, path, pos, captures, count + 2, visitor);
        }
      }
    }
  } else {
    const keys = node.keys;
    if (keys.length !== 0) {
      const c = path.charCodeAt(pos);
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === c) {
          const child = node.statics[i]!;
          const prefix = child.prefix;
          if (prefix.length === 1 || path.startsWith(prefix, pos)) {
            findEvery(child, path, pos + prefix.length, captures, count, visitor);
          }
          break;
        }
      }
    }
    const patterns = node.patterns;
    if (patterns !== null) {
      for (let i = 0; i < patterns.length; i++) {
        const edge = patterns[i]!;
        let end = edge.spans ? len : path.indexOf("/", pos);
        if (end === -1) end = len;
        while (end >= pos) {
          if (edge.regexp.test(path.slice(pos, end))) {
            captures[count] = pos;
            captures[count + 1] = end;
            findEvery(edge.node, path, end, captures, count + 2, visitor);
          }
          if (!edge.spans || end === pos) break;
          end = path.lastIndexOf("/", end - 1);
          if (end < pos) break;
        }
      }
    }
    const param = node.param;
    if (param !== null) {
      let end = path.indexOf("/", pos);
      if (end === -1) end = len;
      if (end > pos) {
        captures[count] = pos;
        captures[count + 1] = end;
        findEvery(param, path, end, captures, count + 2, visitor);
      }
    }
  }
  if (node.tail !== null && (pos === len || path.charCodeAt(pos) === SLASH)) {
    captures[count] = pos === len ? pos : pos + 1;
    captures[count + 1] = len;
    visitor.visit(node.tail, path, captures);
  }
  if (node.rest !== null) {
    captures[count] = pos;
    captures[count + 1] = len;
    visitor.visit(node.rest, path, captures);
  }
}

/**
 * A radix tree mapping path patterns to stores of type `S` (whatever the
 * caller keeps per pattern: a handler, a list of handlers...).
 *
 * Lookups do not allocate except for slicing the candidate value of a
 * pattern parameter before testing it; captures are reported as offsets into
 * the looked-up path in {@link RadixTree.captures}, a reused array.
 *
 * @example
 * ```ts
 * const tree = new RadixTree<string>();
 * tree.insert(parsePattern("/users/:id"), () => "user");
 * tree.find("/users/42"); // "user"; tree.captures starts with [7, 9]
 * ```
 */
export class RadixTree<S> {
  #root: RadixNode<S> = new RadixNode<S>("");
  /** Capture offsets of the last {@link RadixTree.find}: `[start, end)` pairs. */
  readonly captures: number[] = [];

  /**
   * Inserts a parsed pattern; `update` receives the store already there (or
   * `null`) and returns the store to keep.
   */
  insert(tokens: Token[], update: (existing: S | null) => S): void {
    let node = this.#root;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      switch (token.kind) {
        case TOKEN_STATIC:
          node = insertStatic(node, token.text);
          break;
        case TOKEN_PARAM:
          node = node.param ??= new RadixNode<S>("");
          break;
        case TOKEN_PATTERN: {
          const patterns = node.patterns ??= [];
          let edge = patterns.find((candidate) => candidate.source === token.source);
          if (edge === undefined) {
            edge = {
              source: token.source,
              regexp: new RegExp(`^(?:${token.source})$`),
              spans: canMatchSlash(token.source),
              node: new RadixNode<S>(""),
            };
            patterns.push(edge);
          }
          node = edge.node;
          break;
        }
        case TOKEN_TAIL:
          node.tail = update(node.tail);
          return;
        case TOKEN_REST:
          node.rest = update(node.rest);
          return;
      }
    }
    node.store = update(node.store);
  }

  /**
   * Returns the store of the highest-priority pattern matching `path`, or
   * `null`; on success {@link RadixTree.captures} holds the capture offsets.
   */
  find(path: string): S | null {
    return findFirst(this.#root, path, 0, this.captures, 0);
  }

  /** Calls `visitor` for every pattern matching `path`, in priority order. */
  findAll(path: string, visitor: MatchVisitor<S>): void {
    findEvery(this.#root, path, 0, this.captures, 0, visitor);
  }
}
