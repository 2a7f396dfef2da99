/**
 * Runs every case of the `*.md` corpus through a real Connection over an
 * in-memory socket: whole, split in two at every byte offset (sampled for
 * long cases), byte by byte, and in seeded random chunkings. Every chunking
 * must give the same outcome.
 */

import { test } from "node:test";
import * as assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type Case, loadCorpus, type Outcome } from "./corpus.ts";
import { parseResponses, type RunOptions, runConnection, type RunResult } from "../helpers/memory_socket.ts";
import { mulberry32 } from "./random.ts";

const DIR = fileURLToPath(new URL(".", import.meta.url));
/** Cases longer than this get a sample of split offsets, not all of them. */
const MAX_EXHAUSTIVE = 600;
const SAMPLED_SPLITS = 48;
const RANDOM_CHUNKINGS = 6;

interface Observed extends Outcome {
  interim: number[];
  rest: string;
}

function observe(r: RunResult): Observed {
  const { responses, rest } = parseResponses(r.output, r.requests.map((q) => q.method));
  return {
    requests: r.requests.map((q) => ({ method: q.method, url: q.url, body: q.body })),
    statuses: responses.filter((x) => x.status >= 200).map((x) => x.status),
    interim: responses.filter((x) => x.status < 200).map((x) => x.status),
    closed: r.closed,
    rest,
  };
}

/** Splits each group into chunks at the given absolute offsets. */
function cut(groups: Uint8Array[], offsets: number[]): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let base = 0;
  for (const g of groups) {
    const chunks: Uint8Array[] = [];
    let s = 0;
    for (const o of offsets) {
      const k = o - base;
      if (k > s && k < g.length) {
        chunks.push(g.subarray(s, k));
        s = k;
      }
    }
    chunks.push(g.subarray(s));
    out.push(chunks);
    base += g.length;
  }
  return out;
}

function chunkings(c: Case): { label: string; input: Uint8Array[][] }[] {
  const total = c.groups.reduce((n, g) => n + g.length, 0);
  const plans: { label: string; input: Uint8Array[][] }[] = [];
  const rand = mulberry32(c.line * 7919 + total);
  let offsets: number[] = [];
  if (total <= MAX_EXHAUSTIVE) for (let k = 1; k < total; k++) offsets.push(k);
  else for (let n = 0; n < SAMPLED_SPLITS; n++) offsets.push(1 + Math.floor(rand() * (total - 1)));
  offsets = [...new Set(offsets)].sort((a, b) => a - b);
  for (const k of offsets) plans.push({ label: `split at ${k}`, input: cut(c.groups, [k]) });
  if (total <= MAX_EXHAUSTIVE * 4) {
    const all: number[] = [];
    for (let k = 1; k < total; k++) all.push(k);
    plans.push({ label: "byte by byte", input: cut(c.groups, all) });
  }
  for (let n = 0; n < RANDOM_CHUNKINGS; n++) {
    const cuts: number[] = [];
    const max = 1 + Math.floor(rand() * Math.max(1, Math.min(64, total / 2)));
    for (let k = 1 + Math.floor(rand() * max); k < total; k += 1 + Math.floor(rand() * max)) cuts.push(k);
    plans.push({ label: `random chunking #${n} (${cuts.join(",")})`, input: cut(c.groups, cuts) });
  }
  return plans;
}

function runOptions(c: Case): RunOptions {
  return { ...c.options } as RunOptions;
}

function check(c: Case, o: Observed, label: string): void {
  const where = `${c.file}:${c.line} (${label})`;
  assert.equal(o.rest, "", `${where}: output is not a sequence of responses`);
  assert.deepEqual(
    { requests: o.requests, statuses: o.statuses, closed: o.closed },
    c.expected,
    `${where}: outcome differs`,
  );
  if (c.interim !== null) assert.deepEqual(o.interim, c.interim, `${where}: interim responses differ`);
}

const cases = loadCorpus(DIR);

for (const c of cases) {
  test(`${c.file}:${c.line} ${c.name}`, async () => {
    const whole = await runConnection(c.groups.map((g) => [g]), runOptions(c));
    const o = observe(whole);
    check(c, o, "whole");
    for (const h of c.headers) {
      const req = whole.requests[h.index];
      assert.ok(req !== undefined, `${c.file}:${c.line}: no request #${h.index} for header check`);
      const values = req.headers.filter(([n]) => n === h.name).map(([, v]) => v);
      assert.deepEqual(values, [h.value], `${c.file}:${c.line}: header ${h.name}`);
    }
    const plans = chunkings(c);
    // Each run is independent: run them side by side so their timer ticks overlap.
    const results = await Promise.all(plans.map((p) => runConnection(p.input, runOptions(c))));
    for (let k = 0; k < plans.length; k++) check(c, observe(results[k]), plans[k].label);
  });
}

test("corpus is not empty", () => {
  assert.ok(cases.length > 100, `only ${cases.length} cases`);
});
