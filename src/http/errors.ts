/**
 * Error codes and the prebuilt responses they map to. The parser never
 * throws on network input: it returns one of these codes, and the connection
 * answers with the matching response (built once, here) and closes. The
 * connection itself uses a few more (a timeout, a body cut short, overload).
 *
 * @module
 */

import { dateLine } from "./date.ts";

/** Why a request was refused. Numeric so the parser can return it cheaply. */
export const ErrorCode = {
  NONE: 0,
  /** Request line is not `method SP request-target SP HTTP-version`. */
  INVALID_REQUEST_LINE: 1,
  INVALID_METHOD: 2,
  INVALID_TARGET: 3,
  /** Request-target longer than `maxRequestTargetBytes`. */
  TARGET_TOO_LONG: 4,
  INVALID_VERSION: 5,
  /** A well-formed version other than HTTP/1.x. */
  UNSUPPORTED_VERSION: 6,
  /** A CR not followed by LF, or a LF not preceded by CR. */
  INVALID_LINE_ENDING: 7,
  INVALID_FIELD_NAME: 8,
  INVALID_FIELD_VALUE: 9,
  /** Whitespace between a field name and the colon (RFC 9112 §5.1). */
  WHITESPACE_BEFORE_COLON: 10,
  /** A line folded onto the previous field (obs-fold, RFC 9112 §5.2). */
  OBSOLETE_LINE_FOLDING: 11,
  /** Header section larger than `maxHeaderBytes`. */
  HEADERS_TOO_LARGE: 12,
  /** More fields than `maxHeaderCount`. */
  TOO_MANY_HEADERS: 13,
  MISSING_HOST: 14,
  DUPLICATE_HOST: 15,
  INVALID_HOST: 16,
  INVALID_CONTENT_LENGTH: 17,
  DUPLICATE_CONTENT_LENGTH: 18,
  /** Both Transfer-Encoding and Content-Length (RFC 9112 §6.1). */
  TRANSFER_ENCODING_WITH_CONTENT_LENGTH: 19,
  /** Transfer-Encoding whose final coding is not chunked. */
  TRANSFER_ENCODING_NOT_CHUNKED: 20,
  /** A transfer coding other than chunked (gzip, ...): not implemented. */
  UNSUPPORTED_TRANSFER_CODING: 21,
  /** Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1). */
  TRANSFER_ENCODING_IN_HTTP10: 22,
  /** Body larger than `maxBodyBytes`. */
  BODY_TOO_LARGE: 23,
  INVALID_CHUNK_SIZE: 24,
  INVALID_CHUNK_EXTENSION: 25,
  /** Chunk data not followed by CRLF. */
  INVALID_CHUNK_DATA: 26,
  INVALID_TRAILER: 27,
  /** CONNECT: this server does not tunnel. */
  METHOD_NOT_IMPLEMENTED: 28,
  /** An Expect other than 100-continue (RFC 9110 §10.1.1). */
  EXPECTATION_FAILED: 29,
  /** The header section did not arrive within `headersTimeoutMs`. */
  REQUEST_TIMEOUT: 30,
  /** Overload control refused the request (see {@linkcode overloaded}). */
  SERVICE_UNAVAILABLE: 31,
  /** The client half-closed before the body it announced was complete. */
  INCOMPLETE_BODY: 32,
  /** The handler did not settle its Response within `handlerTimeoutMs`. */
  HANDLER_TIMEOUT: 33,
} as const;

/** One of the {@linkcode ErrorCode} codes. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

const STATUS: Record<number, number> = {
  [ErrorCode.TARGET_TOO_LONG]: 414,
  [ErrorCode.UNSUPPORTED_VERSION]: 505,
  [ErrorCode.HEADERS_TOO_LARGE]: 431,
  [ErrorCode.TOO_MANY_HEADERS]: 431,
  [ErrorCode.UNSUPPORTED_TRANSFER_CODING]: 501,
  [ErrorCode.BODY_TOO_LARGE]: 413,
  [ErrorCode.METHOD_NOT_IMPLEMENTED]: 501,
  [ErrorCode.EXPECTATION_FAILED]: 417,
  [ErrorCode.REQUEST_TIMEOUT]: 408,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
  [ErrorCode.HANDLER_TIMEOUT]: 503,
};

const MESSAGE: Record<number, string> = {
  [ErrorCode.INVALID_REQUEST_LINE]: "malformed request line",
  [ErrorCode.INVALID_METHOD]: "invalid method",
  [ErrorCode.INVALID_TARGET]: "invalid request-target",
  [ErrorCode.TARGET_TOO_LONG]: "request-target too long",
  [ErrorCode.INVALID_VERSION]: "malformed HTTP version",
  [ErrorCode.UNSUPPORTED_VERSION]: "only HTTP/1.0 and HTTP/1.1 are supported",
  [ErrorCode.INVALID_LINE_ENDING]: "lines must end with CRLF",
  [ErrorCode.INVALID_FIELD_NAME]: "invalid header field name",
  [ErrorCode.INVALID_FIELD_VALUE]: "invalid header field value",
  [ErrorCode.WHITESPACE_BEFORE_COLON]: "whitespace between header field name and colon",
  [ErrorCode.OBSOLETE_LINE_FOLDING]: "obsolete line folding is not accepted",
  [ErrorCode.HEADERS_TOO_LARGE]: "header section too large",
  [ErrorCode.TOO_MANY_HEADERS]: "too many header fields",
  [ErrorCode.MISSING_HOST]: "missing Host header",
  [ErrorCode.DUPLICATE_HOST]: "more than one Host header",
  [ErrorCode.INVALID_HOST]: "invalid Host header",
  [ErrorCode.INVALID_CONTENT_LENGTH]: "invalid Content-Length",
  [ErrorCode.DUPLICATE_CONTENT_LENGTH]: "more than one Content-Length",
  [ErrorCode.TRANSFER_ENCODING_WITH_CONTENT_LENGTH]:
    "Transfer-Encoding and Content-Length together",
  [ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED]: "final transfer coding must be chunked",
  [ErrorCode.UNSUPPORTED_TRANSFER_CODING]: "unsupported transfer coding",
  [ErrorCode.TRANSFER_ENCODING_IN_HTTP10]: "Transfer-Encoding in an HTTP/1.0 request",
  [ErrorCode.BODY_TOO_LARGE]: "request body too large",
  [ErrorCode.INVALID_CHUNK_SIZE]: "invalid chunk size",
  [ErrorCode.INVALID_CHUNK_EXTENSION]: "invalid chunk extension",
  [ErrorCode.INVALID_CHUNK_DATA]: "chunk data must end with CRLF",
  [ErrorCode.INVALID_TRAILER]: "invalid trailer field",
  [ErrorCode.METHOD_NOT_IMPLEMENTED]: "method not implemented",
  [ErrorCode.EXPECTATION_FAILED]: "only 100-continue is supported in Expect",
  [ErrorCode.REQUEST_TIMEOUT]: "request not received in time",
  [ErrorCode.SERVICE_UNAVAILABLE]: "server busy, retry later",
  [ErrorCode.INCOMPLETE_BODY]: "request body ended before its announced length",
  [ErrorCode.HANDLER_TIMEOUT]: "the handler did not answer in time",
};

/** Reason phrases for the status codes the server itself produces. */
export const REASON: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The status code an error code is answered with. */
export function statusOf(code: number): number {
  return STATUS[code] ?? 400;
}

/** The plain-text explanation sent in the body of an error response. */
export function messageOf(code: number): string {
  return MESSAGE[code] ?? "bad request";
}

/**
 * An error response in two parts, so the current `Date` line can go between
 * them: `head` is the status line, `tail` the remaining fields, the blank line
 * and the body. Every one closes the connection, except the 503 of
 * {@linkcode overloaded}.
 */
export interface ErrorResponse {
  readonly status: number;
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  /**
   * The connection may stay open after it (the request's framing was fine,
   * as for a 503 from overload control): `tail` then has no `Connection`
   * field and the writer adds one when it closes anyway.
   */
  readonly keepsConnection?: boolean;
}

const encoder = new TextEncoder();
const BUILT: ErrorResponse[] = [];

/** The response bytes for an error code, built once per code. */
export function errorResponse(code: number): ErrorResponse {
  let r = BUILT[code];
  if (r === undefined) {
    const status = statusOf(code);
    const body = `${REASON[status] ?? "Error"}: ${messageOf(code)}\n`;
    r = {
      status,
      head: encoder.encode(`HTTP/1.1 ${status} ${REASON[status] ?? "Error"}\r\n`),
      tail: encoder.encode(
        "Content-Type: text/plain; charset=utf-8\r\n" +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      ),
    };
    BUILT[code] = r;
  }
  return r;
}

const overloadedCache = new Map<number, ErrorResponse>();

/**
 * 503 for work refused by overload control, with `Retry-After`. The
 * connection stays open (the request's framing was intact), so `tail` has no
 * `Connection` field.
 */
export function overloaded(retryAfterSeconds: number): ErrorResponse {
  let r = overloadedCache.get(retryAfterSeconds);
  if (r === undefined) {
    const body = `${REASON[503]}: ${messageOf(ErrorCode.SERVICE_UNAVAILABLE)}\n`;
    r = {
      status: 503,
      head: encoder.encode("HTTP/1.1 503 Service Unavailable\r\n"),
      tail: encoder.encode(
        `Retry-After: ${retryAfterSeconds}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      ),
      keepsConnection: true,
    };
    overloadedCache.set(retryAfterSeconds, r);
  }
  return r;
}

/** The bytes that refuse a whole connection over `maxConnections`: the 503, then close. */
export function refusedConnectionBytes(retryAfterSeconds: number): Uint8Array {
  const r = overloaded(retryAfterSeconds);
  const date = dateLine();
  const closeLine = encoder.encode("Connection: close\r\n");
  const out = new Uint8Array(r.head.length + date.length + closeLine.length + r.tail.length);
  out.set(r.head, 0);
  out.set(date, r.head.length);
  out.set(closeLine, r.head.length + date.length);
  out.set(r.tail, r.head.length + date.length + closeLine.length);
  return out;
}
