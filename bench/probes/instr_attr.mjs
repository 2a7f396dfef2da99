// Self instructions per function from a callgrind dump made with --dump-instr=yes, JIT code and
// V8's builtins named from V8's perf map (--perf-basic-prof), divided by the requests the dump
// covers. bench/probes/instr.sh runs it with PROFILE=1.
//
//   node bench/probes/instr_attr.mjs <callgrind.out> <perf-PID.map> <requests> [top=40]
import { readFileSync } from "node:fs";

const [dumpFile, mapFile, requestsArg, topArg] = process.argv.slice(2);
const requests = Number(requestsArg);
const top = Number(topArg ?? 40);

const symbols = readFileSync(mapFile, "utf8").split("\n").filter(Boolean).map((line) => {
  const [start, size, ...name] = line.split(" ");
  return { start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name: name.join(" ") };
}).sort((a, b) => a.start - b.start);

/** The perf map's name for an address, or null (code the map does not cover). */
function symbolAt(addr) {
  let lo = 0, hi = symbols.length - 1, at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (symbols[mid].start <= addr) (at = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  // Code that moved or was replaced leaves overlapping entries: look back a little.
  for (let j = at; j >= 0 && j > at - 50; j--) if (addr < symbols[j].end && addr >= symbols[j].start) return symbols[j].name;
  return null;
}

const objects = new Map();
const functions = new Map();
const cost = new Map();
let object = "", fn = "", last = 0, callCost = false;
const NAMED = /^(c?ob|c?fn|c?fi|c?fe|c?fl|fi|fe)=\((\d+)\)(?: (.*))?$/;
for (const line of readFileSync(dumpFile, "utf8").split("\n")) {
  const c = line[0];
  if ((c >= "0" && c <= "9") || c === "+" || c === "-" || c === "*") {
    // positions: instr line; then the Ir count.
    const [pos, , ir] = line.split(" ");
    if (pos.startsWith("0x")) last = parseInt(pos, 16);
    else if (c === "+") last += parseInt(pos.slice(1), 16);
    else if (c === "-") last -= parseInt(pos.slice(1), 16);
    else if (c !== "*") last = parseInt(pos, 16);
    if (callCost) {
      callCost = false; // a call's inclusive cost, not this function's own
      continue;
    }
    const obName = objects.get(object) ?? "?";
    let key = obName === "???" ? symbolAt(last) ?? "JIT code with no name" : null;
    if (key === null) {
      key = symbolAt(last) ?? `${obName.split("/").pop()}:${functions.get(fn) ?? "?"}`;
    }
    cost.set(key, (cost.get(key) ?? 0) + Number(ir ?? 0));
    continue;
  }
  if (line.startsWith("calls=")) {
    callCost = true;
    continue;
  }
  const m = NAMED.exec(line);
  if (m === null) continue;
  const [, kind, id, name] = m;
  if (kind.endsWith("ob") && name !== undefined) objects.set(id, name);
  if (kind.endsWith("fn") && name !== undefined) functions.set(id, name);
  if (kind === "ob") object = id;
  if (kind === "fn") fn = id;
}

const group = (k) =>
  k.startsWith("JS:") ? "JavaScript" : k.startsWith("Builtin:") || k.startsWith("BytecodeHandler:") ? "V8 builtins"
  : /^[^:]*(deno|node|bun):/.test(k) ? "the runtime's binary (its own code, V8's C++, the collector)" : k.split(":")[0];
const groups = new Map();
let total = 0;
for (const [k, v] of cost) {
  total += v;
  groups.set(group(k), (groups.get(group(k)) ?? 0) + v);
}
const per = (v) => String(Math.round(v / requests)).padStart(8);
console.log(`${per(total)}  instructions per request, in all`);
for (const [k, v] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`${per(v)}  ${k}`);
console.log(`top ${top}:`);
for (const [k, v] of [...cost].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(v)}  ${k}`);
