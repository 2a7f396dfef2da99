import { test } from "node:test";
import * as assert from "node:assert/strict";
import { type ClusterServer, RestartPolicy, serveWorkers } from "./cluster.ts";
import { type ClusterTransport, decodeMessage, encodeMessage, type ProcessControl, WORKER_ID_ENV, WORKER_PORT_ENV, type WorkerEvents } from "./process.ts";
import { resolveOptions } from "./options.ts";
import { countersOnly, emptyStats, type ServerStats, sumStats } from "./stats.ts";

test("RestartPolicy: delays double per restart within the window, up to the cap", () => {
  const p = new RestartPolicy({ baseDelayMs: 100, maxDelayMs: 1000, maxRestarts: 10, windowMs: 60_000 });
  const delays = [0, 1, 2, 3, 4, 5].map((i) => p.onExit(1000 + i));
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
});

test("RestartPolicy: gives up after maxRestarts within the window", () => {
  const p = new RestartPolicy({ baseDelayMs: 10, maxRestarts: 3, windowMs: 1000 });
  assert.equal(p.onExit(0), 10);
  assert.equal(p.onExit(10), 20);
  assert.equal(p.onExit(20), 40);
  assert.equal(p.onExit(30), null);
  assert.equal(p.recentRestarts, 3);
});

test("RestartPolicy: restarts older than the window are forgotten", () => {
  const p = new RestartPolicy({ baseDelayMs: 10, maxRestarts: 2, windowMs: 1000 });
  assert.equal(p.onExit(0), 10);
  assert.equal(p.onExit(500), 20);
  assert.equal(p.onExit(900), null);
  // Both earlier restarts are now out of the window: back to the base delay.
  assert.equal(p.onExit(1600), 10);
});

function statsWith(total: number, active: number, buckets: Record<number, number>, max: number): ServerStats {
  const s = emptyStats();
  s.uptimeMs = 1000 + total;
  s.connections.active = active;
  s.connections.total = total;
  s.connections.byState.idle = active;
  s.requests.total = total;
  s.requests.inFlight = 1;
  s.requests.byStatusClass["2xx"] = total;
  s.bytes.in = total * 10;
  s.bytes.out = total * 20;
  for (const [i, n] of Object.entries(buckets)) s.latencyMs.buckets[Number(i)] = n;
  s.latencyMs.count = Object.values(buckets).reduce((a, b) => a + b, 0);
  s.latencyMs.max = max;
  return s;
}

test("sumStats: adds counters and gauges, merges histograms and recomputes percentiles", () => {
  // Bucket 4 is (0.5, 1] ms, bucket 8 is (8, 16] ms.
  const a = statsWith(90, 3, { 4: 90 }, 0.9);
  const b = statsWith(10, 2, { 8: 10 }, 12);
  const sum = sumStats([a, b]);
  assert.equal(sum.requests.total, 100);
  assert.equal(sum.connections.total, 100);
  assert.equal(sum.connections.active, 5);
  assert.equal(sum.connections.byState.idle, 5);
  assert.equal(sum.requests.inFlight, 2);
  assert.equal(sum.requests.byStatusClass["2xx"], 100);
  assert.equal(sum.bytes.in, 1000);
  assert.equal(sum.bytes.out, 2000);
  assert.equal(sum.latencyMs.count, 100);
  assert.equal(sum.latencyMs.buckets[4], 90);
  assert.equal(sum.latencyMs.buckets[8], 10);
  assert.equal(sum.latencyMs.max, 12);
  assert.equal(sum.latencyMs.p50, 1);
  assert.equal(sum.latencyMs.p90, 1);
  assert.equal(sum.latencyMs.p99, 12); // bucket bound 16, capped at max
  assert.equal(sum.uptimeMs, 1090);
  // Inputs are left alone.
  assert.equal(a.requests.total, 90);
});

test("sumStats of nothing is empty; countersOnly zeroes gauges, keeps counters", () => {
  assert.deepEqual(sumStats([]), emptyStats());
  const c = countersOnly(statsWith(7, 3, { 2: 7 }, 0.2));
  assert.equal(c.connections.active, 0);
  assert.equal(c.connections.byState.idle, 0);
  assert.equal(c.requests.inFlight, 0);
  assert.equal(c.requests.total, 7);
  assert.equal(c.latencyMs.buckets[2], 7);
});

test("messages: encode/decode round trip; other lines are not messages", () => {
  const line = encodeMessage({ t: "listening", hostname: "127.0.0.1", port: 3000 });
  assert.ok(!line.includes("\n"));
  assert.deepEqual(decodeMessage(line), { t: "listening", hostname: "127.0.0.1", port: 3000 });
  assert.equal(decodeMessage("hello from console.log"), null);
  assert.equal(decodeMessage(line.slice(0, -1)), null);
});

test("options: workers must be a positive integer or auto", () => {
  const fetch = () => new Response("");
  assert.equal(resolveOptions({ fetch }).workers, 0);
  assert.equal(resolveOptions({ fetch, workers: 3 }).workers, 3);
  assert.ok(resolveOptions({ fetch, workers: "auto" }).workers >= 1);
  for (const bad of [0, -1, 1.5, "2", "many", null]) {
    assert.throws(() => resolveOptions({ fetch, workers: bad as unknown as number }), RangeError);
  }
});

/** A fake process table: workers are objects the test drives. */
class FakeProcesses implements ProcessControl {
  spawned: { pid: number; env: Record<string, string>; events: WorkerEvents; sent: string[]; signals: string[] }[] = [];
  nextPid = 100;
  env(): string | undefined {
    return undefined;
  }
  assertCanSpawn(): void {}
  spawnWorker(env: Record<string, string>, events: WorkerEvents) {
    const w = { pid: this.nextPid++, env, events, sent: [] as string[], signals: [] as string[] };
    this.spawned.push(w);
    return {
      pid: w.pid,
      send: (line: string) => w.sent.push(line),
      kill: (signal: "SIGTERM" | "SIGKILL") => w.signals.push(signal),
    };
  }
  connectPrimary(): never {
    throw new Error("not a worker");
  }
  exit(): void {}
  listen(i: number, port: number): void {
    this.spawned[i].events.message(encodeMessage({ t: "listening", hostname: "127.0.0.1", port }));
  }
  report(i: number, stats: ServerStats): void {
    this.spawned[i].events.message(encodeMessage({ t: "stats", stats }));
  }
}

function fakeTransport(processes: ProcessControl): ClusterTransport {
  return {
    runtime: "fake",
    listen: () => Promise.reject(new Error("the primary never listens")),
    processes,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("supervisor: port 0 starts one worker first, the rest on its port; ready when all listen", async () => {
  const p = new FakeProcesses();
  const logs: string[] = [];
  const server = serveWorkers(fakeTransport(p), { fetch: () => new Response(""), port: 0, workers: 3 }, () => {
    throw new Error("not in a worker");
  }, { log: (l) => logs.push(l) }) as ClusterServer;
  assert.equal(p.spawned.length, 1);
  assert.equal(p.spawned[0].env[WORKER_ID_ENV], "1");
  assert.equal(p.spawned[0].env[WORKER_PORT_ENV], "0");
  p.listen(0, 4321);
  assert.equal(p.spawned.length, 3);
  assert.deepEqual(p.spawned.map((w) => w.env[WORKER_PORT_ENV]), ["0", "4321", "4321"]);
  let ready = false;
  server.ready.then(() => (ready = true));
  p.listen(1, 4321);
  await sleep(1);
  assert.equal(ready, false);
  p.listen(2, 4321);
  await server.ready;
  assert.equal(server.port, 4321);
  assert.equal(server.url, "http://127.0.0.1:4321/");
  assert.deepEqual(server.workers.map((w) => [w.id, w.pid, w.state]), [[1, 100, "listening"], [2, 101, "listening"], [3, 102, "listening"]]);

  // Stats: the sum of the last reports.
  p.report(0, statsWith(5, 1, { 3: 5 }, 0.3));
  p.report(1, statsWith(7, 2, { 3: 7 }, 0.4));
  assert.equal(server.stats().requests.total, 12);
  assert.equal(server.stats().connections.active, 3);

  // Worker 1 crashes: its counters stay in the sum, its gauges go; it is restarted after the backoff.
  p.spawned[0].events.exit(null, "SIGKILL");
  assert.equal(server.stats().requests.total, 12);
  assert.equal(server.stats().connections.active, 2);
  assert.equal(server.workers[0].state, "restarting");
  assert.match(logs.join("\n"), /worker 1 \(pid 100\) exited with signal SIGKILL; restarting in 100 ms/);
  await sleep(150);
  assert.equal(p.spawned.length, 4);
  assert.equal(p.spawned[3].env[WORKER_ID_ENV], "1");
  assert.equal(p.spawned[3].env[WORKER_PORT_ENV], "4321");
  p.listen(3, 4321);
  p.report(3, statsWith(1, 1, { 3: 1 }, 0.1));
  assert.equal(server.stats().requests.total, 13);
  assert.deepEqual(server.workers[0], { id: 1, pid: 103, state: "listening", restarts: 1 });

  // Close: each live worker gets a close message and SIGTERM; finished once all exit.
  const closing = server.close({ deadlineMs: 500 });
  for (const i of [1, 2, 3]) {
    assert.deepEqual(decodeMessage(p.spawned[i].sent[0]), { t: "close", deadlineMs: 500 });
    assert.deepEqual(p.spawned[i].signals, ["SIGTERM"]);
    p.spawned[i].events.message(encodeMessage({ t: "closed", finished: i, cut: 0 }));
    p.spawned[i].events.exit(0, null);
  }
  assert.deepEqual(await closing, { finished: 6, cut: 0, webSockets: { closed: 0, cut: 0 } });
  await server.finished;
  assert.equal(p.spawned.length, 4, "nothing restarts while closing");
});

test("supervisor: a worker that dies at start is retried with backoff, then ready rejects", async () => {
  const p = new FakeProcesses();
  const logs: string[] = [];
  const server = serveWorkers(fakeTransport(p), { fetch: () => new Response(""), port: 4000, workers: 2 }, () => {
    throw new Error("not in a worker");
  }, { log: (l) => logs.push(l), restart: { baseDelayMs: 5, maxRestarts: 3, windowMs: 10_000 } });
  assert.equal(p.spawned.length, 2);
  const started = Date.now();
  for (let i = 0; i < 4; i++) {
    const last = p.spawned.filter((w) => w.env[WORKER_ID_ENV] === "2").at(-1)!;
    last.events.exit(1, null);
    await sleep(5 * 2 ** i + 15);
  }
  // 3 restarts (5, 10, 20 ms), then it gives up: no fourth.
  assert.equal(p.spawned.filter((w) => w.env[WORKER_ID_ENV] === "2").length, 4);
  assert.ok(Date.now() - started >= 35);
  await assert.rejects(server.ready, /worker 2 keeps exiting/);
  assert.match(logs.join("\n"), /3 restarts within 10000 ms already, not restarting it/);
  // The supervisor closes: the other worker is told to stop.
  assert.deepEqual(p.spawned[0].signals, ["SIGTERM"]);
  p.spawned[0].events.exit(0, null);
  await server.finished;
});

test("supervisor: a transport without processes cannot run workers", () => {
  const t: ClusterTransport = { runtime: "x", listen: () => Promise.reject(new Error("no")) };
  assert.throws(() => serveWorkers(t, { fetch: () => new Response(""), workers: 2 }, () => {
    throw new Error("unused");
  }), /cannot spawn processes/);
});
