/**
 * Server statistics: counters, gauges and a latency histogram, cheap enough
 * to leave on (a few integer adds per request and one `performance.now()`
 * at each end). Formatting lives in {@linkcode toPrometheus}; the counters
 * know nothing about it. {@linkcode sumStats} adds several servers' stats
 * into one (the workers of `serve({ workers })`).
 *
 * @module
 */

/**
 * Latency bucket upper bounds in milliseconds: powers of two from 1/16 ms to
 * about 65 s. Percentiles are reported as the upper bound of the bucket they
 * fall in, so they are exact to within a factor of two.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Array.from({ length: 21 }, (_, i) => 2 ** (i - 4));

/** What `server.stats()` returns. */
export interface ServerStats {
  /** Milliseconds since the server started. */
  uptimeMs: number;
  /** Connection counters and gauges. */
  connections: {
    active: number;
    total: number;
    refused: number;
    timedOut: number;
    byState: Record<"idle" | "reading" | "processing" | "writing" | "closing", number>;
    parked: number;
  };
  /** Request counters and gauges. */
  requests: {
    total: number;
    inFlight: number;
    queued: number;
    byStatusClass: Record<"1xx" | "2xx" | "3xx" | "4xx" | "5xx", number>;
    errors: number;
    refused: number;
    dropped: number;
    shed: number;
    aborted: number;
  };
  /** Bytes read from and written to sockets (HTTP; a WebSocket's bytes after its 101 are under `webSockets`). */
  bytes: { in: number; out: number };
  /** WebSockets: open now, opened, upgrades refused (503), and messages and wire bytes each way. */
  webSockets: { open: number; total: number; refused: number; messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number };
  /** Latency from parsed head to response handed to the socket; `buckets` match `LATENCY_BUCKETS_MS` plus one overflow bucket. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; count: number; buckets: number[] };
}

/** Mutable counters the server and its connections bump. */
export class StatsCounters {
  readonly startedAt = Date.now();
  connectionsTotal = 0;
  connectionsRefused = 0;
  timedOut = 0;
  requestsTotal = 0;
  /** Responses written (each `record`ed). */
  answered = 0;
  /** Handler failures whose error answer was written. */
  errors = 0;
  aborted = 0;
  bytesIn = 0;
  bytesOut = 0;
  status = [0, 0, 0, 0, 0];
  latency = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  latencyMax = 0;

  /** Records one answered request. */
  record(status: number, ms: number): void {
    this.answered++;
    const c = (status / 100) | 0;
    if (c >= 1 && c <= 5) this.status[c - 1]++;
    // Bucket index: ceil(log2(ms)) shifted so 1/16 ms is bucket 0.
    let i = 0;
    if (ms > LATENCY_BUCKETS_MS[0]) {
      i = Math.ceil(Math.log2(ms)) + 4;
      if (i > LATENCY_BUCKETS_MS.length) i = LATENCY_BUCKETS_MS.length;
    }
    this.latency[i]++;
    if (ms > this.latencyMax) this.latencyMax = ms;
  }

  /** The upper bound (ms) of the bucket holding percentile `p` (0..1). */
  percentile(p: number): number {
    return percentile(this.latency, this.latencyMax, p);
  }
}

/**
 * The upper bound (ms) of the latency bucket holding percentile `p` (0..1),
 * capped at `max` (the overflow bucket reports `max`).
 * @param buckets counts per bucket, as {@linkcode LATENCY_BUCKETS_MS} plus one overflow bucket
 * @param max the largest latency recorded
 * @param p the percentile, 0..1
 */
export function percentile(buckets: ArrayLike<number>, max: number, p: number): number {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i];
  if (total === 0) return 0;
  const want = p * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= want) return i < LATENCY_BUCKETS_MS.length ? Math.min(LATENCY_BUCKETS_MS[i], max) : max;
  }
  return max;
}

// Summing several servers' stats (the workers of a cluster) into one.

/** An empty {@linkcode ServerStats}. */
export function emptyStats(): ServerStats {
  return {
    uptimeMs: 0,
    connections: { active: 0, total: 0, refused: 0, timedOut: 0, byState: { idle: 0, reading: 0, processing: 0, writing: 0, closing: 0 }, parked: 0 },
    requests: {
      total: 0,
      inFlight: 0,
      queued: 0,
      byStatusClass: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
      errors: 0,
      refused: 0,
      dropped: 0,
      shed: 0,
      aborted: 0,
    },
    bytes: { in: 0, out: 0 },
    webSockets: { open: 0, total: 0, refused: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 },
    latencyMs: { p50: 0, p90: 0, p99: 0, max: 0, count: 0, buckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0) },
  };
}

/**
 * Adds every counter and gauge of `from` into `into` (latency buckets bucket
 * by bucket; the percentiles and `max` are summed too, so recompute them, as
 * {@linkcode sumStats} does, before reading them).
 */
export function addStats(into: ServerStats, from: ServerStats): void {
  addInto(into as unknown as Record<string, unknown>, from as unknown as Record<string, unknown>);
}

/** Adds every number in `from` into `into`, recursively (arrays element-wise). */
function addInto(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const key of Object.keys(into)) {
    const a = into[key];
    const b = from[key];
    if (typeof a === "number" && typeof b === "number") into[key] = a + b;
    else if (Array.isArray(a) && Array.isArray(b)) for (let i = 0; i < a.length; i++) a[i] += typeof b[i] === "number" ? b[i] : 0;
    else if (a !== null && typeof a === "object" && b !== null && typeof b === "object") {
      addInto(a as Record<string, unknown>, b as Record<string, unknown>);
    }
  }
}

/**
 * Sums several servers' stats into one: counters and gauges add up, latency
 * histograms add bucket by bucket and the percentiles are recomputed from
 * the sum (not averaged), `max` is the largest, `uptimeMs` the largest.
 */
export function sumStats(list: readonly ServerStats[]): ServerStats {
  const sum = emptyStats();
  let max = 0;
  let uptime = 0;
  for (const s of list) {
    addStats(sum, s);
    if (s.latencyMs.max > max) max = s.latencyMs.max;
    if (s.uptimeMs > uptime) uptime = s.uptimeMs;
  }
  const l = sum.latencyMs;
  l.max = max;
  l.p50 = percentile(l.buckets, max, 0.5);
  l.p90 = percentile(l.buckets, max, 0.9);
  l.p99 = percentile(l.buckets, max, 0.99);
  sum.uptimeMs = uptime;
  return sum;
}

/** `stats` with its gauges (open connections, in-flight work) zeroed: what an exited worker leaves behind. */
export function countersOnly(stats: ServerStats): ServerStats {
  const s = structuredClone(stats);
  s.connections.active = 0;
  s.connections.parked = 0;
  for (const k of Object.keys(s.connections.byState) as (keyof ServerStats["connections"]["byState"])[]) s.connections.byState[k] = 0;
  s.requests.inFlight = 0;
  s.requests.queued = 0;
  if (s.webSockets !== undefined) s.webSockets.open = 0;
  s.uptimeMs = 0;
  return s;
}

/**
 * Stats in the Prometheus text exposition format (version 0.0.4).
 * @param stats what `server.stats()` returned
 * @param prefix metric name prefix
 */
export function toPrometheus(stats: ServerStats, prefix = "anyserve"): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${prefix}_${name} ${help}`, `# TYPE ${prefix}_${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${prefix}_${name}${labels} ${v}`);
  };
  metric("uptime_seconds", "gauge", "Seconds since the server started.", [["", stats.uptimeMs / 1000]]);
  metric("connections_active", "gauge", "Open connections.", [["", stats.connections.active]]);
  metric("connections_by_state", "gauge", "Open connections by state.", Object.entries(stats.connections.byState).map(([s, n]) => [`{state="${s}"}`, n]));
  metric("connections_total", "counter", "Connections accepted.", [["", stats.connections.total]]);
  metric("connections_refused_total", "counter", "Connections refused over maxConnections.", [["", stats.connections.refused]]);
  metric("connections_timed_out_total", "counter", "Connections closed by a timeout.", [["", stats.connections.timedOut]]);
  metric("requests_total", "counter", "Requests parsed.", [["", stats.requests.total]]);
  metric("requests_in_flight", "gauge", "Requests in handlers.", [["", stats.requests.inFlight]]);
  metric("requests_queued", "gauge", "Requests waiting for admission.", [["", stats.requests.queued]]);
  metric("responses_total", "counter", "Responses by status class.", Object.entries(stats.requests.byStatusClass).map(([c, n]) => [`{class="${c}"}`, n]));
  metric("handler_errors_total", "counter", "Handlers that threw or rejected.", [["", stats.requests.errors]]);
  metric("requests_refused_total", "counter", "Requests refused by backpressure.", [
    [`{reason="rejected"}`, stats.requests.refused],
    [`{reason="dropped"}`, stats.requests.dropped],
    [`{reason="shed"}`, stats.requests.shed],
  ]);
  metric("requests_aborted_total", "counter", "Requests whose client went away first.", [["", stats.requests.aborted]]);
  metric("bytes_received_total", "counter", "Bytes read from clients.", [["", stats.bytes.in]]);
  metric("bytes_sent_total", "counter", "Bytes written to clients.", [["", stats.bytes.out]]);
  const ws = stats.webSockets ?? emptyStats().webSockets;
  metric("websockets_open", "gauge", "Open WebSockets.", [["", ws.open]]);
  metric("websockets_total", "counter", "WebSockets opened.", [["", ws.total]]);
  metric("websockets_refused_total", "counter", "WebSocket upgrades refused (503).", [["", ws.refused]]);
  metric("websocket_messages_total", "counter", "WebSocket messages by direction.", [
    [`{direction="in"}`, ws.messagesIn],
    [`{direction="out"}`, ws.messagesOut],
  ]);
  metric("websocket_bytes_total", "counter", "WebSocket wire bytes after the 101, by direction.", [
    [`{direction="in"}`, ws.bytesIn],
    [`{direction="out"}`, ws.bytesOut],
  ]);
  lines.push(
    `# HELP ${prefix}_request_duration_seconds Time from a parsed head to the last response byte handed to the socket.`,
    `# TYPE ${prefix}_request_duration_seconds histogram`,
  );
  let cumulative = 0;
  stats.latencyMs.buckets.forEach((n, i) => {
    cumulative += n;
    const le = i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i] / 1000) : "+Inf";
    lines.push(`${prefix}_request_duration_seconds_bucket{le="${le}"} ${cumulative}`);
  });
  lines.push(`${prefix}_request_duration_seconds_count ${stats.latencyMs.count}`);
  return lines.join("\n") + "\n";
}

/**
 * A response carrying `stats` as JSON, or in Prometheus text format: mount it
 * in a Hono app, for example
 * `app.get("/metrics", () => statsResponse(server.stats(), "prometheus"))`.
 * @param stats what `server.stats()` returned
 * @param format `"json"` or `"prometheus"`
 */
export function statsResponse(stats: ServerStats, format: "json" | "prometheus" = "json"): Response {
  if (format === "prometheus") {
    return new Response(toPrometheus(stats), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
  }
  return Response.json(stats);
}
