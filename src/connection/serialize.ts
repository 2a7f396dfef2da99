/**
 * Writing responses into the output buffer: the status line and fields, the
 * framing fields, the body, and chunk framing. Plain functions over an
 * {@linkcode Exchange}; the connection decides when, and writes the bytes.
 *
 * @module
 */

import { CR, fieldNameKind, isFieldValue, latin1Bytes, LF, NAME_INVALID, NAME_LOWER } from "../http/chars.ts";
import { chunkHeader, INVALID_RESPONSE, type OutBuffer, writeStatusLine } from "../http/writer.ts";
import type { Exchange } from "./exchange.ts";

/** The last chunk of a chunked body, with no trailers. */
export const LAST_CHUNK: Uint8Array = new Uint8Array([0x30, CR, LF, CR, LF]);
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

// Response fields are written by one module-level callback rather than a
// closure per response; a flush runs start to end, so the state is safe here.
let fieldOut: OutBuffer | null = null;
let fieldHasDate = false;
let fieldHasType = false;
let fieldClose = false;
/** The handler's own Content-Length value (kept on a HEAD response with no body to measure). */
let fieldLength: string | null = null;
/** A field (or the status) that cannot go on the wire: the response is replaced by a 500. */
let fieldBad = false;
function writeField(value: string, name: string): void {
  // A line checked and encoded before goes out as its bytes.
  for (let line = fieldLines.get(value); line !== undefined; line = line.next) {
    if (line.name !== name) continue;
    if (line.isType) fieldHasType = true;
    fieldOut!.bytes(line.bytes);
    return;
  }
  const given = name;
  const kind = fieldNameKind(name);
  if (kind !== NAME_LOWER) {
    if (kind === NAME_INVALID) fieldBad = true;
    else name = name.toLowerCase(); // a duck-typed Headers, or a runtime's field list (names as given): framing fields are still ours
  }
  if (!isFieldValue(value)) fieldBad = true;
  if (fieldBad) return;
  switch (name) {
    // Framing is ours to decide: the handler's values would contradict it.
    case "connection":
      // ...but a handler that asks to close gets its close.
      if (/(^|[\s,])close($|[\s,])/i.test(value)) fieldClose = true;
      return;
    case "content-length":
      fieldLength = value;
      return;
    case "transfer-encoding":
    case "keep-alive":
      return;
    case "date":
      // A handler's Date changes every second: never cached.
      fieldHasDate = true;
      field(fieldOut!, name, value);
      return;
    case "content-type":
      fieldHasType = true;
  }
  field(fieldOut!, name, value);
  remember(given, name, value);
}

/**
 * A field line that is only written (no framing role but Content-Type's),
 * checked and encoded once: most responses repeat the same few fields
 * (Hono's `content-type: text/plain; charset=UTF-8`), and checking and
 * copying each character was the largest piece of a keep-alive request
 * (about 2,500 of 30,000 instructions on Deno, bench/probes/instr.sh).
 * Keyed by value, then by the name as the handler gave it.
 */
interface FieldLine {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly isType: boolean;
  readonly next: FieldLine | undefined;
}
const fieldLines = new Map<string, FieldLine>();
/**
 * Lines seen once and not yet cached, by value (the name as given is the
 * value here): a line is cached the second time it is seen, so a value
 * that differs on every response (an ETag, a request id, a cookie) costs a
 * map entry, never an encoded copy.
 */
const seenOnce = new Map<string, string>();
/** Lines held (each table is emptied when it reaches this). */
const MAX_FIELD_LINES = 512;
/** Longest line (name and value, in characters) cached. */
const MAX_CACHED_LINE = 256;
let fieldLineCount = 0;

function remember(given: string, name: string, value: string): void {
  if (given.length + value.length > MAX_CACHED_LINE) return;
  if (seenOnce.get(value) !== given) {
    if (seenOnce.size >= MAX_FIELD_LINES) seenOnce.clear();
    seenOnce.set(value, given);
    return;
  }
  seenOnce.delete(value);
  if (fieldLineCount >= MAX_FIELD_LINES) {
    fieldLines.clear();
    fieldLineCount = 0;
  }
  const bytes = latin1Bytes(`${name}: ${value}\r\n`);
  fieldLines.set(value, { name: given, bytes, isType: name === "content-type", next: fieldLines.get(value) });
  fieldLineCount++;
}

function field(out: OutBuffer, name: string, value: string): void {
  out.latin1(name);
  out.latin1(": ");
  out.latin1(value);
  out.crlf();
}

/** True when a streamed body goes out in chunked coding; false for raw bytes (a length, or HTTP/1.0). */
export function isChunked(ex: Exchange): boolean {
  return ex.fixedLength < 0 && ex.head.minor === 1 && ex.head.method !== "HEAD";
}

/**
 * The one chunk-framing rule: appends body chunk `c` to `out`, framed when
 * `chunked`. A chunk longer than `copyUpTo` is not copied: it is returned,
 * for the caller to write after `out`'s bytes (followed by CRLF when
 * chunked); otherwise null.
 */
export function frameChunk(out: OutBuffer, c: Uint8Array, chunked: boolean, copyUpTo: number): Uint8Array | null {
  if (chunked) out.latin1(chunkHeader(c.length));
  if (c.length > copyUpTo) return c;
  out.bytes(c);
  if (chunked) out.crlf();
  return null;
}

/**
 * Status line and fields; `length` is the body length, or -1 for chunked (or
 * close-delimited). Returns false when the status or a field cannot go on
 * the wire (CR, LF, NUL, a character above U+00FF...): the head is then
 * replaced by a complete 500 and the handler's body is dropped.
 */
export function writeHead(out: OutBuffer, ex: Exchange, length: number, date: Uint8Array, keepAlive: Uint8Array): boolean {
  const res = ex.response!;
  const mark = out.length;
  const validStatus = writeStatusLine(out, ex.status, res.statusText);
  fieldOut = out;
  fieldHasDate = false;
  fieldHasType = false;
  fieldClose = false;
  fieldLength = null;
  fieldBad = !validStatus;
  const fields = ex.fields;
  if (fields === null) res.headers.forEach(writeField);
  else for (let i = 0; i < fields.length; i++) writeField(fields[i][1], fields[i][0]);
  fieldOut = null;
  if (ex.impliedType !== null && !fieldHasType) field(out, "content-type", ex.impliedType);
  // HEAD: a body we have nothing of to measure (a null body) keeps the
  // length the handler said its GET has, as every runtime's own server
  // does (RFC 9110 §9.3.2, §8.6).
  if (length < 0 && fieldLength !== null && ex.head.method === "HEAD" && /^\d{1,15}$/.test(fieldLength)) length = Number(fieldLength);
  if (fieldBad) {
    out.truncate(mark);
    ex.answerWith(INVALID_RESPONSE);
    // The 500 carries a body that a HEAD client would not read.
    if (ex.head.method === "HEAD") ex.close = true;
    ex.chunks = ex.text = null;
    ex.nextRead = null;
    writeReady(out, ex, date, keepAlive);
    return false;
  }
  if (fieldClose) ex.close = true;
  const status = ex.status;
  if (length >= 0 && length < MAX_TAIL_LENGTH && !fieldHasDate && !ex.close && ex.head.minor === 1 && status >= 200 && status !== 204 && status !== 304) {
    out.bytes(tail(length, date, keepAlive));
    return true;
  }
  if (!fieldHasDate) out.bytes(date);
  if (status !== 204 && status !== 304 && status >= 200) {
    if (length >= 0) {
      out.latin1("Content-Length: ");
      out.latin1(String(length));
      out.crlf();
    } else if (ex.head.method !== "HEAD") {
      // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): the body ends
      // when the connection does.
      if (ex.head.minor === 0) ex.close = true;
      else out.latin1("Transfer-Encoding: chunked\r\n");
    }
  }
  connectionField(out, ex, keepAlive);
  out.crlf();
  return true;
}

/**
 * The end of the most common head, from the Date line on: `Date`,
 * `Content-Length: <length>`, `Keep-Alive` and the blank line, as one copy.
 * Made once per length for the current Date line and the first Keep-Alive
 * line seen with it (a server with another idle timeout builds its own
 * each time), and dropped when the Date line changes, once a second.
 */
function tail(length: number, date: Uint8Array, keepAlive: Uint8Array): Uint8Array {
  if (date !== tailDate) {
    tailDate = date;
    tailKeepAlive = keepAlive;
    tails = [];
  }
  if (keepAlive !== tailKeepAlive) return buildTail(length, date, keepAlive);
  return (tails[length] ??= buildTail(length, date, keepAlive));
}

/** Longest body (bytes) whose head end is kept by {@linkcode tail}. */
const MAX_TAIL_LENGTH = 1024;
let tailDate: Uint8Array | null = null;
let tailKeepAlive: Uint8Array | null = null;
let tails: Uint8Array[] = [];

function buildTail(length: number, date: Uint8Array, keepAlive: Uint8Array): Uint8Array {
  const middle = latin1Bytes(`Content-Length: ${length}\r\n`);
  const bytes = new Uint8Array(date.length + middle.length + keepAlive.length + 2);
  bytes.set(date);
  bytes.set(middle, date.length);
  bytes.set(keepAlive, date.length + middle.length);
  bytes[bytes.length - 2] = CR;
  bytes[bytes.length - 1] = LF;
  return bytes;
}

/**
 * `Connection: close` when this response ends the connection; else the
 * idle timeout (`keepAlive`, from {@linkcode keepAliveLine}), after
 * keep-alive said out loud to HTTP/1.0.
 */
function connectionField(out: OutBuffer, ex: Exchange, keepAlive: Uint8Array): void {
  if (ex.close) out.latin1("Connection: close\r\n");
  else {
    if (ex.head.minor === 0) out.latin1("Connection: keep-alive\r\n");
    out.bytes(keepAlive);
  }
}

const keepAliveLines = new Map<number, Uint8Array>();
/**
 * `Keep-Alive: timeout=N` (RFC 9112 §9.3 leaves the idle timeout to the
 * server; the field is the de facto way to say it, as Node's http does), N
 * the idle timeout in whole seconds rounded down, so that a client that
 * honours it stops reusing a connection before we end it. Built once per
 * timeout value.
 */
export function keepAliveLine(keepAliveTimeoutMs: number): Uint8Array {
  const n = Math.floor(keepAliveTimeoutMs / 1000);
  let line = keepAliveLines.get(n);
  if (line === undefined) keepAliveLines.set(n, line = new TextEncoder().encode(`Keep-Alive: timeout=${n}\r\n`));
  return line;
}

/** A READY exchange's whole response: a prebuilt error, or head and buffered body. */
export function writeReady(out: OutBuffer, ex: Exchange, date: Uint8Array, keepAlive: Uint8Array): void {
  const err = ex.error;
  if (err !== null) {
    out.bytes(err.head);
    out.bytes(date);
    if (err.keepsConnection === true) connectionField(out, ex, keepAlive);
    out.bytes(err.tail);
    return;
  }
  const isHead = ex.head.method === "HEAD";
  const chunks = ex.chunks;
  const text = ex.text;
  let encoded: Uint8Array | null = null;
  if (text !== null && !ex.textAscii) {
    encoded = utf8(text);
    ex.chunkBytes = encoded.length;
  }
  const valid = writeHead(out, ex, chunks === null && text === null ? (isHead ? -1 : 0) : ex.chunkBytes, date, keepAlive);
  if (valid && !isHead) {
    if (encoded !== null) out.bytes(encoded);
    else if (text !== null) out.latin1(text);
    else if (chunks !== null) for (const c of chunks) out.bytes(c);
  }
  ex.chunks = null;
  ex.text = null;
}

const encoder = new TextEncoder();
/** Longest string (UTF-16 units) encoded into the shared scratch; a longer one gets an array of its own. */
const MAX_SCRATCH_TEXT = 64 * 1024;
let textScratch = new Uint8Array(4096);

/**
 * `s` as UTF-8: a view into a scratch buffer reused by every response
 * (valid until the next call; the caller copies it into the output at
 * once), so a string body costs no allocation. `encode()` would make a
 * new array each time: 1.3-2.2 µs for 1 KiB on Node and Deno against
 * 0.1-0.2 µs for `encodeInto` (0.3-0.4 against 0.1 on Bun).
 */
function utf8(s: string): Uint8Array {
  if (s.length > MAX_SCRATCH_TEXT) return encoder.encode(s);
  // At most three bytes per UTF-16 unit.
  const need = s.length * 3;
  if (need > textScratch.length) textScratch = new Uint8Array(Math.max(need, textScratch.length * 2));
  const { written } = encoder.encodeInto(s, textScratch);
  return new Uint8Array(textScratch.buffer, 0, written);
}

/**
 * A STREAM exchange's head and the chunks its body yielded while settling.
 * False when the head was invalid and a complete 500 went out instead.
 */
export function writeStreamStart(out: OutBuffer, ex: Exchange, date: Uint8Array, keepAlive: Uint8Array): boolean {
  if (!writeHead(out, ex, ex.fixedLength, date, keepAlive)) return false;
  if (ex.head.method === "HEAD") return true;
  const chunked = isChunked(ex);
  for (const c of ex.chunks!) frameChunk(out, c, chunked, Infinity);
  ex.chunks = null;
  return true;
}

/** `100 Continue`, once, for a request that asked for it. */
export function writeContinue(out: OutBuffer, ex: Exchange): void {
  ex.continuePending = false;
  ex.head.expectContinue = false;
  out.bytes(CONTINUE);
}

/**
 * `101 Switching Protocols` for an upgraded exchange: `Connection: Upgrade`
 * (the Connection field is ours, as on any response), the handler's fields
 * less the framing ones, then the upgrade's own, and no body.
 */
export function writeSwitchingProtocols(out: OutBuffer, ex: Exchange, date: Uint8Array): void {
  out.latin1("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n");
  fieldOut = out;
  fieldHasDate = false;
  ex.response?.headers.forEach(writeField);
  fieldOut = null;
  if (!fieldHasDate) out.bytes(date);
  const extra = ex.upgrade!.headers;
  if (extra !== undefined) for (const [name, value] of extra) field(out, name, value);
  out.crlf();
}
