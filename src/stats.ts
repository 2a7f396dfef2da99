/**
 * Server statistics: counters, gauges and a latency histogram, cheap enough
 * to leave on (a few integer adds per request and one `performance.now()`
 * at each end). Formatting lives in {@linkcode toPrometheus}; the counters
 * know nothing about it.
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
  /** Bytes read from and written to sockets. */
  bytes: { in: number; out: number };
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
  errors = 0;
  aborted = 0;
  bytesIn = 0;
  bytesOut = 0;
  status = [0, 0, 0, 0, 0];
  latency = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  latencyMax = 0;

  /** Records one answered request. */
  record(status: number, ms: number): void {
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
    let total = 0;
    for (const n of this.latency) total += n;
    if (total === 0) return 0;
    const want = p * total;
    let seen = 0;
    for (let i = 0; i < this.latency.length; i++) {
      seen += this.latency[i];
      if (seen >= want) return i < LATENCY_BUCKETS_MS.length ? Math.min(LATENCY_BUCKETS_MS[i], this.latencyMax) : this.latencyMax;
    }
    return this.latencyMax;
  }
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
