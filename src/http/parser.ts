/**
 * The HTTP/1.1 request-head parser: byte-level, strict RFC 9112 framing.
 *
 * Parsing a head is two steps. {@linkcode findHeadEnd} runs on every read and
 * looks only for line ends, resuming where it stopped, so a head that trickles
 * in byte by byte costs linear time (slowloris cannot make us rescan). It
 * rejects a bare LF or a bare CR and enforces the size limits as soon as they are crossed.
 * Once the blank line is there, {@linkcode parseHead} validates the complete
 * head in one pass and records what framing needs (Content-Length,
 * Transfer-Encoding, Connection, Host, Expect) as offsets and numbers. Field
 * strings are decoded only when a handler asks for them.
 *
 * Neither function throws on network input: both return a
 * {@linkcode ErrorCode} code.
 *
 * @module
 */

import {
  COLON,
  COMMA,
  CR,
  equalsLower,
  FIELD_VALUE,
  HEX,
  HTAB,
  IP_LITERAL,
  latin1,
  LF,
  LOWER,
  REG_NAME,
  SP,
  TARGET_CLASS,
  TOKEN,
} from "./chars.ts";
import { ErrorCode } from "./errors.ts";

/** The limits that bound what a request head may be. */
export interface HeadLimits {
  /** Request line plus header section, in bytes (431 above it). */
  maxHeaderBytes: number;
  /** Number of header fields (431 above it). */
  maxHeaderCount: number;
  /** Request-target length in bytes (414 above it). */
  maxRequestTargetBytes: number;
}

/** Longest method we take to be a method at all; a longer first word is a bad request line. */
const MAX_METHOD_BYTES = 32;

/** An over-long request line is a 414 when its target is long, a 400 when its method is. */
function longLineError(buf: Uint8Array, lineStart: number): number {
  for (let k = lineStart; k <= lineStart + MAX_METHOD_BYTES; k++) {
    if (buf[k] === SP) return ErrorCode.TARGET_TOO_LONG;
  }
  return ErrorCode.INVALID_METHOD;
}

/** Where {@linkcode findHeadEnd} stopped; reset with {@linkcode resetScan} per head. */
export interface HeadScan {
  /**
   * Where the head starts: its request line, once the empty lines before it
   * are skipped (findHeadEnd moves it past each one).
   */
  start: number;
  /** Next byte to look at. */
  pos: number;
  /** Start of the line being scanned. */
  lineStart: number;
  /** True once the request line's LF has been seen. */
  pastRequestLine: boolean;
  /** Error code when findHeadEnd returned {@linkcode HEAD_ERROR}. */
  error: number;
  /** Empty lines skipped before the request line so far. */
  emptyLines: number;
}

/** Empty lines ignored before a request line (RFC 9112 §2.2 asks for at least one); more is an error. */
export const MAX_EMPTY_LINES = 8;

/** findHeadEnd: more bytes are needed. */
export const HEAD_INCOMPLETE = -1;
/** findHeadEnd: the head is invalid; the code is in `scan.error`. */
export const HEAD_ERROR = -2;

/** Prepares `scan` for a head that starts at `start`. */
export function resetScan(scan: HeadScan, start: number): void {
  scan.start = start;
  scan.pos = start;
  scan.lineStart = start;
  scan.pastRequestLine = false;
  scan.error = 0;
  scan.emptyLines = 0;
}

/**
 * Looks for the blank line that ends the head starting at `scan.start`,
 * skipping the empty lines before its request line (RFC 9112 §2.2; this is
 * the one place that does). Returns the index just past the blank line,
 * {@linkcode HEAD_INCOMPLETE}, or {@linkcode HEAD_ERROR}; the head then is
 * `buf[scan.start..returned)`.
 */
export function findHeadEnd(
  buf: Uint8Array,
  end: number,
  scan: HeadScan,
  limits: HeadLimits,
): number {
  const from = scan.pos;
  let i = from;
  while (i < end) {
    // Header lines are short: a plain loop over the first 64 bytes beats the
    // fixed cost of a native indexOf call (measured in bench/core_bench.ts);
    // longer lines go on with indexOf, the runtime's memchr.
    let lf = -1;
    const near = Math.min(end, i + 64);
    for (let k = i; k < near; k++) {
      if (buf[k] === LF) {
        lf = k;
        break;
      }
    }
    if (lf === -1 && near < end) {
      lf = buf.indexOf(LF, near);
      if (lf >= end) lf = -1;
    }
    if (lf === -1) {
      scan.pos = end;
      break;
    }
    // RFC 9112 §2.2 lets a recipient accept a bare LF; we do not, since
    // disagreeing about line ends is a request-smuggling vector.
    if (lf === scan.start || buf[lf - 1] !== CR) {
      scan.error = ErrorCode.INVALID_LINE_ENDING;
      return HEAD_ERROR;
    }
    const lineStart = scan.lineStart;
    if (lf - 1 === lineStart) {
      if (!scan.pastRequestLine) {
        // RFC 9112 §2.2: empty lines before the request line are ignored;
        // a few, not an endless stream of them. The head starts after them.
        if (++scan.emptyLines > MAX_EMPTY_LINES) {
          scan.error = ErrorCode.INVALID_REQUEST_LINE;
          return HEAD_ERROR;
        }
        scan.start = lf + 1;
        scan.lineStart = lf + 1;
        i = lf + 1;
        scan.pos = i;
        continue;
      }
      if (lf + 1 - scan.start > limits.maxHeaderBytes) {
        scan.error = ErrorCode.HEADERS_TOO_LARGE;
        return HEAD_ERROR;
      }
      return lf + 1;
    }
    // A line that starts with CR but is not the blank line ("\r\r\n") can
    // never become valid: say so now instead of waiting for more bytes.
    if (buf[lineStart] === CR) {
      scan.error = ErrorCode.INVALID_LINE_ENDING;
      return HEAD_ERROR;
    }
    if (!scan.pastRequestLine && lf - lineStart > limits.maxRequestTargetBytes + 32) {
      // The same bound as for an incomplete request line below, so the
      // answer (414, not 431) does not depend on how the bytes were split.
      scan.error = longLineError(buf, lineStart);
      return HEAD_ERROR;
    }
    if (!scan.pastRequestLine) {
      // A request line has three parts (RFC 9112 §3). One without a version
      // (HTTP/0.9 style "GET /") is refused now, not after waiting for a
      // header section its client will never send.
      let spaces = 0;
      for (let k = lineStart; k < lf && spaces < 2; k++) if (buf[k] === SP) spaces++;
      if (spaces < 2) {
        scan.error = ErrorCode.INVALID_REQUEST_LINE;
        return HEAD_ERROR;
      }
    }
    scan.pastRequestLine = true;
    scan.lineStart = lf + 1;
    i = lf + 1;
    scan.pos = i;
  }
  if (!scan.pastRequestLine) {
    // Method, two spaces and "HTTP/1.1\r" fit easily in 32 bytes more.
    if (end - scan.lineStart > limits.maxRequestTargetBytes + 32) {
      scan.error = longLineError(buf, scan.lineStart);
      return HEAD_ERROR;
    }
  } else if (end - scan.start > limits.maxHeaderBytes) {
    scan.error = ErrorCode.HEADERS_TOO_LARGE;
    return HEAD_ERROR;
  }
  // A CR is only ever the first half of a line end; one followed by any
  // other byte (RFC 9112 §2.2 "bare CR") can stop a head from ever ending
  // ("GET / HTTP/1.1\rHost: a\r\r"), so it is refused now rather than at the
  // headers timeout. Only this read's bytes are looked at (from the byte
  // before them: a CR that ended the last read), and only for a head that
  // is still incomplete: a complete one is checked byte by byte by parseHead.
  for (let k = from > scan.start ? from - 1 : scan.start; k < end - 1; k++) {
    if (buf[k] === CR && buf[k + 1] !== LF) {
      scan.error = ErrorCode.INVALID_LINE_ENDING;
      return HEAD_ERROR;
    }
  }
  return HEAD_INCOMPLETE;
}

/** What the parser learned from one request head. Offsets index `buf`. */
export class RequestHead {
  /** The bytes holding the head; kept so fields decode lazily. */
  buf: Uint8Array = EMPTY;
  method = "GET";
  targetStart = 0;
  targetEnd = 0;
  /** The target holds a byte after which URL serialization may differ (see `TARGET_CLASS`). */
  targetMarked = false;
  /** HTTP minor version: 0 or 1 (1.2+ is treated as 1.1, RFC 9110 §6.2). */
  minor = 1;
  /** First byte of the first field line. */
  fieldsStart = 0;
  /** Index of the blank line's CR (the end of the last field line). */
  fieldsEnd = 0;
  hostStart = -1;
  hostEnd = -1;
  /** Content-Length, or -1 when absent. */
  contentLength = -1;
  chunked = false;
  keepAlive = true;
  expectContinue = false;
  /** `Connection: upgrade` in an HTTP/1.1 request: what follows its head may be another protocol. */
  upgrade = false;
  fieldCount = 0;
}

const EMPTY = new Uint8Array(0);

/**
 * Validates the complete head `buf[start..end)` (as findHeadEnd found it:
 * `start` at the request line, `end` just past the blank line) and fills
 * `head`. Returns {@linkcode ErrorCode.NONE} or an error code.
 */
export function parseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  limits: HeadLimits,
): number {
  head.buf = buf;
  // Request line: method SP request-target SP HTTP-version CRLF (RFC 9112 §3).
  let i = start;
  while (TOKEN[buf[i]] === 1) i++;
  if (i === start) return buf[i] === SP ? ErrorCode.INVALID_REQUEST_LINE : ErrorCode.INVALID_METHOD;
  if (buf[i] !== SP) return buf[i] === CR ? ErrorCode.INVALID_REQUEST_LINE : ErrorCode.INVALID_METHOD;
  const method = methodName(buf, start, i);
  head.method = method;
  const targetStart = ++i;
  let marks = 0;
  for (let t = TARGET_CLASS[buf[i]]; t !== 0; t = TARGET_CLASS[buf[++i]]) marks |= t;
  if (buf[i] !== SP) {
    return buf[i] === CR || i === targetStart
      ? ErrorCode.INVALID_REQUEST_LINE
      : ErrorCode.INVALID_TARGET;
  }
  if (i === targetStart) return ErrorCode.INVALID_REQUEST_LINE;
  if (i - targetStart > limits.maxRequestTargetBytes) return ErrorCode.TARGET_TOO_LONG;
  head.targetStart = targetStart;
  head.targetEnd = i;
  head.targetMarked = (marks & 2) !== 0;
  i++;
  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
  if (
    buf[i] !== 0x48 /* H */ || buf[i + 1] !== 0x54 /* T */ || buf[i + 2] !== 0x54 /* T */ ||
    buf[i + 3] !== 0x50 /* P */ || buf[i + 4] !== SLASH_ || buf[i + 6] !== 0x2e /* . */ ||
    buf[i + 8] !== CR || buf[i + 9] !== LF
  ) {
    return ErrorCode.INVALID_VERSION;
  }
  const major = buf[i + 5] - 0x30;
  const minor = buf[i + 7] - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return ErrorCode.INVALID_VERSION;
  if (major !== 1) return ErrorCode.UNSUPPORTED_VERSION;
  head.minor = minor === 0 ? 0 : 1;
  i += 10; // past CRLF (findHeadEnd guaranteed the LF)

  const c0 = buf[targetStart];
  if (c0 === 0x2f /* / */) {
    // origin-form: the common case
  } else if (c0 === 0x2a /* * */) {
    // asterisk-form only for OPTIONS (RFC 9112 §3.2.4)
    if (head.targetEnd - targetStart !== 1 || method !== "OPTIONS") return ErrorCode.INVALID_TARGET;
  } else if (method === "CONNECT") {
    return ErrorCode.METHOD_NOT_IMPLEMENTED;
  } else if (!isAbsoluteForm(buf, targetStart, head.targetEnd)) {
    return ErrorCode.INVALID_TARGET;
  }
  if (method === "CONNECT") return ErrorCode.METHOD_NOT_IMPLEMENTED;

  // Header fields: field-name ":" OWS field-value OWS CRLF (RFC 9112 §5).
  const fieldsEnd = end - 2;
  head.fieldsStart = i;
  head.fieldsEnd = fieldsEnd;
  head.hostStart = -1;
  head.hostEnd = -1;
  head.contentLength = -1;
  head.chunked = false;
  head.expectContinue = false;
  let hosts = 0;
  let count = 0;
  let connClose = false;
  let connKeepAlive = false;
  let teSeen = false;
  let teChunkedLast = false;
  let teChunkedCount = 0;
  let teOther = false;
  let expectFailed = false;
  const maxCount = limits.maxHeaderCount;
  while (i < fieldsEnd) {
    const nameStart = i;
    const b = buf[i];
    if (b === SP || b === HTAB) return ErrorCode.OBSOLETE_LINE_FOLDING;
    while (TOKEN[buf[i]] === 1) i++;
    const nameEnd = i;
    if (buf[i] !== COLON) {
      if (nameEnd !== nameStart && (buf[i] === SP || buf[i] === HTAB)) {
        return ErrorCode.WHITESPACE_BEFORE_COLON;
      }
      return ErrorCode.INVALID_FIELD_NAME;
    }
    if (nameEnd === nameStart) return ErrorCode.INVALID_FIELD_NAME;
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (FIELD_VALUE[buf[i]] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) return ErrorCode.INVALID_FIELD_VALUE;
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    i += 2;
    if (++count > maxCount) return ErrorCode.TOO_MANY_HEADERS;

    // Only a handful of fields matter for framing; pick them by length and
    // first letter before comparing whole names.
    const len = nameEnd - nameStart;
    const first = LOWER[buf[nameStart]];
    if (len === 4 && first === 0x68 /* h */ && equalsLower(buf, nameStart, nameEnd, "host")) {
      hosts++;
      if (!isHost(buf, valueStart, valueEnd)) return ErrorCode.INVALID_HOST;
      head.hostStart = valueStart;
      head.hostEnd = valueEnd;
    } else if (len === 14 && first === 0x63 /* c */ && equalsLower(buf, nameStart, nameEnd, "content-length")) {
      if (head.contentLength !== -1) return ErrorCode.DUPLICATE_CONTENT_LENGTH;
      // RFC 9110 §8.6: Content-Length = 1*DIGIT. No sign, no list, no spaces.
      if (valueStart === valueEnd) return ErrorCode.INVALID_CONTENT_LENGTH;
      let n = 0;
      let significant = valueStart;
      for (let j = valueStart; j < valueEnd; j++) {
        const d = buf[j] - 0x30;
        if (d < 0 || d > 9) return ErrorCode.INVALID_CONTENT_LENGTH;
        if (n === 0 && d === 0) significant = j + 1;
        n = n * 10 + d;
      }
      // Past 2^53 the number is no longer exact; no body is that large.
      // Leading zeros do not count: "000…05" is 5.
      if (valueEnd - significant > 15) return ErrorCode.BODY_TOO_LARGE;
      head.contentLength = n;
    } else if (len === 17 && first === 0x74 /* t */ && equalsLower(buf, nameStart, nameEnd, "transfer-encoding")) {
      teSeen = true;
      // transfer-coding list (RFC 9112 §6.1); elements may carry parameters.
      // RFC 9110 §5.6.1 asks a recipient to ignore empty list elements, but
      // one after the last coding ("chunked,") or a field with none at all
      // (an empty "Transfer-Encoding:" after "chunked") leaves a front end
      // that takes the last element or field as the coding framing the body
      // otherwise; llhttp refuses both, and so do we. Leading and inner
      // empty elements (", chunked") are ignored, as llhttp does.
      if (valueStart === valueEnd || buf[valueEnd - 1] === COMMA) {
        return ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED;
      }
      let j = valueStart;
      while (j < valueEnd) {
        while (j < valueEnd && (buf[j] === SP || buf[j] === HTAB || buf[j] === COMMA)) j++;
        if (j >= valueEnd) break;
        const s = j;
        while (j < valueEnd && TOKEN[buf[j]] === 1) j++;
        if (j === s) return ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED;
        const isChunked = equalsLower(buf, s, j, "chunked");
        // Skip parameters up to the next comma.
        let params = false;
        while (j < valueEnd && buf[j] !== COMMA) {
          if (buf[j] !== SP && buf[j] !== HTAB) params = true;
          j++;
        }
        if (isChunked) {
          if (params) return ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED;
          teChunkedCount++;
          teChunkedLast = true;
        } else {
          teOther = true;
          teChunkedLast = false;
        }
      }
    } else if (len === 10 && first === 0x63 /* c */ && equalsLower(buf, nameStart, nameEnd, "connection")) {
      let j = valueStart;
      while (j < valueEnd) {
        while (j < valueEnd && (buf[j] === SP || buf[j] === HTAB || buf[j] === COMMA)) j++;
        const s = j;
        while (j < valueEnd && buf[j] !== COMMA && buf[j] !== SP && buf[j] !== HTAB) j++;
        if (equalsLower(buf, s, j, "close")) connClose = true;
        else if (equalsLower(buf, s, j, "keep-alive")) connKeepAlive = true;
        else if (equalsLower(buf, s, j, "upgrade")) head.upgrade = true;
      }
    } else if (len === 6 && first === 0x65 /* e */ && equalsLower(buf, nameStart, nameEnd, "expect")) {
      // Reported after the framing checks below: a request with bad framing
      // gets 400, whatever it expects.
      if (equalsLower(buf, valueStart, valueEnd, "100-continue")) head.expectContinue = true;
      else expectFailed = true;
    }
  }
  head.fieldCount = count;

  if (head.minor === 1) {
    if (hosts === 0) return ErrorCode.MISSING_HOST;
  } else {
    // RFC 9110 §10.1.1: ignore 100-continue from an HTTP/1.0 client;
    // §7.8: ignore Upgrade in an HTTP/1.0 request.
    head.expectContinue = false;
    head.upgrade = false;
  }
  if (hosts > 1) return ErrorCode.DUPLICATE_HOST;

  if (teSeen) {
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
    // framing; TE with Content-Length "ought to be handled as an error".
    if (head.minor === 0) return ErrorCode.TRANSFER_ENCODING_IN_HTTP10;
    if (head.contentLength !== -1) return ErrorCode.TRANSFER_ENCODING_WITH_CONTENT_LENGTH;
    // chunked must be last, and applied once (RFC 9112 §7).
    if (!teChunkedLast || teChunkedCount > 1) return ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED;
    if (teOther) return ErrorCode.UNSUPPORTED_TRANSFER_CODING;
    head.chunked = true;
  }
  // RFC 9110 §10.1.1: an expectation other than 100-continue MAY get 417.
  if (expectFailed) return ErrorCode.EXPECTATION_FAILED;
  head.keepAlive = head.minor === 1 ? !connClose : connKeepAlive && !connClose;
  return ErrorCode.NONE;
}

const SLASH_ = 0x2f;

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2), uri-host = IP-literal /
 * IPv4address / reg-name (RFC 3986 §3.2.2), port = *DIGIT. An empty host is
 * invalid for http URIs (RFC 9110 §4.2.1).
 */
function isHost(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (buf[i] === 0x5b /* [ */) {
    i++;
    while (i < end && IP_LITERAL[buf[i]] === 1) i++;
    if (i === start + 1 || i >= end || buf[i] !== 0x5d /* ] */) return false;
    i++;
  } else {
    while (i < end) {
      const b = buf[i];
      if (REG_NAME[b] === 1) i++;
      else if (b === 0x25 /* % */ && i + 2 < end && HEX[buf[i + 1]] >= 0 && HEX[buf[i + 2]] >= 0) i += 3;
      else break;
    }
    if (i === start) return false;
  }
  if (i === end) return true;
  if (buf[i] !== COLON) return false;
  for (i++; i < end; i++) if (buf[i] < 0x30 || buf[i] > 0x39) return false;
  return true;
}

/** absolute-form: scheme "://" ... (RFC 9112 §3.2.2); scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") */
function isAbsoluteForm(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  const a = LOWER[buf[i]];
  if (a < 0x61 || a > 0x7a) return false;
  i++;
  while (i < end) {
    const b = LOWER[buf[i]];
    if ((b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2b || b === 0x2d || b === 0x2e) {
      i++;
      continue;
    }
    break;
  }
  if (buf[i] !== COLON || buf[i + 1] !== SLASH_ || buf[i + 2] !== SLASH_) return false;
  // The authority must be a valid Host: no userinfo (RFC 9110 §4.2.4: a
  // recipient SHOULD treat it as an error), no empty host (§4.2.1).
  const authority = i + 3;
  let j = authority;
  while (j < end && buf[j] !== SLASH_ && buf[j] !== 0x3f /* ? */) j++;
  return isHost(buf, authority, j);
}

/** Returns an interned string for common methods, so each request does not allocate one. */
function methodName(buf: Uint8Array, start: number, end: number): string {
  const c = buf[start];
  switch (end - start) {
    case 3:
      if (c === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return "GET";
      if (c === 0x50 && buf[start + 1] === 0x55 && buf[start + 2] === 0x54) return "PUT";
      break;
    case 4:
      if (c === 0x50 && buf[start + 1] === 0x4f && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return "POST";
      if (c === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44) return "HEAD";
      break;
    case 5:
      if (equalsExact(buf, start, "PATCH")) return "PATCH";
      if (equalsExact(buf, start, "TRACE")) return "TRACE";
      break;
    case 6:
      if (equalsExact(buf, start, "DELETE")) return "DELETE";
      break;
    case 7:
      if (equalsExact(buf, start, "OPTIONS")) return "OPTIONS";
      if (equalsExact(buf, start, "CONNECT")) return "CONNECT";
      break;
  }
  // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
  return latin1(buf, start, end);
}

function equalsExact(buf: Uint8Array, start: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * Calls `fn.call(self, name, value)` for each header field of a parsed head,
 * in order (so `forEachField(head, headers.append, headers)` fills a
 * `Headers` with no closure). Names keep their case; values are trimmed of
 * surrounding whitespace. The field section is decoded once (natively where
 * the bytes are a Node or Bun Buffer) and names and values are slices of
 * that string: cheaper than a decode per name and per value.
 */
export function forEachField<T>(
  head: RequestHead,
  fn: (this: T, name: string, value: string) => void,
  self: T,
): void {
  const buf = head.buf;
  const base = head.fieldsStart;
  const end = head.fieldsEnd;
  if (end <= base) return;
  const slice = (buf as { latin1Slice?: (start: number, end: number) => string }).latin1Slice;
  const s = typeof slice === "function" ? slice.call(buf, base, end) : latin1(buf, base, end);
  let i = base;
  while (i < end) {
    const nameStart = i;
    while (buf[i] !== COLON) i++;
    const nameEnd = i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (buf[i] !== CR) i++;
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    fn.call(self, s.slice(nameStart - base, nameEnd - base), s.slice(valueStart - base, valueEnd - base));
    i += 2;
  }
}
