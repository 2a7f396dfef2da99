/**
 * The access log (`serve({ accessLog })`): one line per answered request,
 * with method, target, status, bytes, duration, remote address and worker
 * id. Off by default; when off the connection's only cost is a null check
 * where a request's completion is recorded (`Connection#finish`).
 *
 * Lines are batched: appended to a buffer and written in one call on a
 * timer ({@linkcode FLUSH_INTERVAL_MS}) or once {@linkcode FLUSH_LINES}
 * have gathered, through the transport's `writeOut` (stdout), so a request
 * never waits on a write.
 *
 * @module
 */

/** One request as the log sees it. */
export interface AccessLogEntry {
  /** ISO 8601 time the response finished. */
  time: string;
  method: string;
  /** The request-target as sent. */
  target: string;
  status: number;
  /** Response body bytes known when the response was settled (a streamed body's first chunks). */
  bytes: number;
  /** From the parsed head to the response written, in ms. */
  durationMs: number;
  remoteAddress: string;
  /** The worker's id under a supervisor; 0 in a single process. */
  worker: number;
}

/** What `accessLog` accepts. */
export type AccessLogOption = boolean | "json" | "common" | ((entry: AccessLogEntry) => void);

/** Flush at least this often (ms): a line shows within a tenth of a second. */
export const FLUSH_INTERVAL_MS = 100;
/** Flush at once past this many buffered lines, so the buffer stays small under load. */
export const FLUSH_LINES = 512;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => (n < 10 ? "0" + n : String(n));

/** `[10/Oct/2000:13:55:36 +0000]` (UTC). */
function clfTime(d: Date): string {
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

/** Common Log Format, then the duration in ms and the worker id. */
export function commonLine(e: AccessLogEntry, version: string): string {
  return `${e.remoteAddress || "-"} - - ${clfTime(new Date(e.time))} "${e.method} ${e.target} HTTP/${version}" ${e.status} ${e.bytes} ${e.durationMs.toFixed(3)} ${e.worker}`;
}

/** A JSON line. */
export function jsonLine(e: AccessLogEntry): string {
  return JSON.stringify(e);
}

/** The log a server keeps when `accessLog` is on. */
export class AccessLog {
  #format: "json" | "common" | ((entry: AccessLogEntry) => void);
  #write: (text: string) => void;
  #worker: number;
  #lines: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param option the `accessLog` option (not false/undefined)
   * @param write writes a batch of lines (stdout)
   * @param worker this worker's id, 0 outside a supervisor
   */
  constructor(option: Exclude<AccessLogOption, false>, write: (text: string) => void, worker: number) {
    this.#format = option === true ? "json" : option;
    this.#write = write;
    this.#worker = worker;
  }

  /** Records one answered request. */
  record(method: string, target: string, minor: number, status: number, bytes: number, durationMs: number, remoteAddress: string): void {
    const entry: AccessLogEntry = {
      time: new Date().toISOString(),
      method,
      target,
      status,
      bytes,
      durationMs: Math.round(durationMs * 1000) / 1000,
      remoteAddress,
      worker: this.#worker,
    };
    const f = this.#format;
    if (typeof f === "function") {
      try {
        f(entry);
      } catch (e) {
        console.error("anyserve: accessLog function threw:", e);
      }
      return;
    }
    this.#lines.push(f === "json" ? jsonLine(entry) : commonLine(entry, minor === 0 ? "1.0" : "1.1"));
    if (this.#lines.length >= FLUSH_LINES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Writes what is buffered now (also at close). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const text = this.#lines.join("\n") + "\n";
    this.#lines = [];
    try {
      this.#write(text);
    } catch {
      // stdout closed: nothing to do
    }
  }
}

/**
 * Checks the option; null when off.
 * @throws {TypeError} on anything else
 */
export function accessLogFormat(value: unknown): Exclude<AccessLogOption, false> | null {
  if (value === undefined || value === false) return null;
  if (value === true || value === "json" || value === "common" || typeof value === "function") return value as Exclude<AccessLogOption, false>;
  throw new TypeError(`Invalid accessLog "${String(value)}": must be true, "json", "common" or a function`);
}
