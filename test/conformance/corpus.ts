/**
 * Reads the conformance corpus: `test/conformance/*.md`, in the spirit of
 * llhttp's `test/request/*.md`.
 *
 * A case is a `## heading` (its name), an optional `<!-- {json options} -->`
 * comment (server options, plus `"endInput": true` for a peer half-close),
 * one or more ```` ```http ```` blocks with the raw input, and one
 * ```` ```expect ```` block. In an http block, line breaks are layout only:
 * every byte is written out, with the escapes `\r`, `\n`, `\t`, `\0`, `\s`
 * (space), `\xHH` and `\\`, and `{{N*text}}` repeats `text` N times. Several
 * http blocks are sent one after the other, letting the connection settle
 * between them.
 *
 * Expect lines:
 * - `METHOD URL "body"`: a request the handler saw (body as a JSON string)
 * - `header name: value`: the last request listed carried this field
 * - `status 200 400 ...`: the final responses, in order
 * - `interim 100`: the 1xx responses (checked only when listed)
 * - `closed` / `open`: whether the server closed the connection
 *
 * @module
 */

import * as fs from "node:fs";

/** One request the handler is expected to see. */
export interface ExpectedRequest {
  method: string;
  url: string;
  body: string;
}

/** What a case must produce, however its bytes are chunked. */
export interface Outcome {
  requests: ExpectedRequest[];
  statuses: number[];
  closed: boolean;
}

/** One corpus case. */
export interface Case {
  file: string;
  line: number;
  name: string;
  options: Record<string, unknown>;
  /** The input, one entry per http block. */
  groups: Uint8Array[];
  expected: Outcome;
  /** Header checks: request index, lower-case name, value. */
  headers: { index: number; name: string; value: string }[];
  /** Expected 1xx statuses, or null when not checked. */
  interim: number[] | null;
}

/** Turns the visible-escape notation of an http block into bytes. */
export function decodeRaw(text: string): Uint8Array {
  const expanded = text
    .split("\n")
    .join("")
    .replace(/\{\{(\d+)\*(.*?)\}\}/g, (_, n: string, s: string) => s.repeat(Number(n)));
  const out: number[] = [];
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i];
    if (c !== "\\") {
      const code = expanded.charCodeAt(i);
      if (code > 0xff) throw new Error(`non-latin1 character in raw block: ${c}`);
      out.push(code);
      continue;
    }
    const e = expanded[++i];
    switch (e) {
      case "r": out.push(0x0d); break;
      case "n": out.push(0x0a); break;
      case "t": out.push(0x09); break;
      case "0": out.push(0x00); break;
      case "s": out.push(0x20); break;
      case "\\": out.push(0x5c); break;
      case "x":
        out.push(parseInt(expanded.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      default:
        throw new Error(`unknown escape \\${e}`);
    }
  }
  return new Uint8Array(out);
}

/** Parses one corpus file. */
export function parseCorpus(file: string, text: string): Case[] {
  const lines = text.split("\n");
  const cases: Case[] = [];
  let current: Case | null = null;
  let block: "http" | "expect" | "other" | null = null;
  let blockLines: string[] = [];
  let sawExpect = false;
  const finish = () => {
    if (current === null) return;
    if (!sawExpect) throw new Error(`${file}:${current.line}: case "${current.name}" has no expect block`);
    if (current.groups.length === 0) throw new Error(`${file}:${current.line}: case "${current.name}" has no http block`);
    cases.push(current);
  };
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (block !== null) {
      if (line.startsWith("```")) {
        if (block === "http") current!.groups.push(decodeRaw(blockLines.join("\n")));
        else if (block === "expect") {
          parseExpect(file, n + 1, blockLines, current!);
          sawExpect = true;
        }
        block = null;
        blockLines = [];
      } else blockLines.push(line);
      continue;
    }
    if (line.startsWith("## ")) {
      finish();
      current = {
        file,
        line: n + 1,
        name: line.slice(3).trim(),
        options: {},
        groups: [],
        expected: { requests: [], statuses: [], closed: false },
        headers: [],
        interim: null,
      };
      sawExpect = false;
      continue;
    }
    const opt = /^<!--\s*(\{.*\})\s*-->$/.exec(line.trim());
    if (opt !== null && current !== null) {
      Object.assign(current.options, JSON.parse(opt[1]));
      continue;
    }
    if (line.startsWith("```")) {
      if (current === null) throw new Error(`${file}:${n + 1}: code block outside a case`);
      const lang = line.slice(3).trim();
      block = lang === "http" ? "http" : lang === "expect" ? "expect" : "other";
    }
  }
  if (block !== null) throw new Error(`${file}: unterminated code block`);
  finish();
  return cases;
}

function parseExpect(file: string, lineNo: number, lines: string[], c: Case): void {
  let closedSet = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line === "closed" || line === "open") {
      c.expected.closed = line === "closed";
      closedSet = true;
    } else if (line === "status" || line.startsWith("status ")) {
      const list = line.slice(6).trim();
      c.expected.statuses = list === "" ? [] : list.split(/\s+/).map(Number);
    } else if (line.startsWith("interim")) {
      c.interim = line.slice(7).trim() === "" ? [] : line.slice(7).trim().split(/\s+/).map(Number);
    } else if (line.startsWith("header ")) {
      const rest = line.slice(7);
      const colon = rest.indexOf(":");
      c.headers.push({
        index: c.expected.requests.length - 1,
        name: rest.slice(0, colon).trim().toLowerCase(),
        value: JSON.parse(rest.slice(colon + 1).trim()),
      });
    } else {
      const m = /^(\S+) (\S+) (".*")$/.exec(line);
      if (m === null) throw new Error(`${file}:${lineNo}: cannot read expect line "${line}"`);
      c.expected.requests.push({ method: m[1], url: m[2], body: JSON.parse(m[3]) });
    }
  }
  if (!closedSet) throw new Error(`${file}:${c.line}: expect block must say "closed" or "open"`);
}

/** Every case of every `.md` file in `dir`, files in name order. */
export function loadCorpus(dir: string): Case[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".md")).sort();
  const all: Case[] = [];
  for (const f of files) all.push(...parseCorpus(f, fs.readFileSync(`${dir}/${f}`, "utf8")));
  return all;
}
