import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  findHeadEnd,
  forEachField,
  HEAD_ERROR,
  HEAD_INCOMPLETE,
  type HeadLimits,
  type HeadScan,
  parseHead,
  RequestHead,
  resetScan,
} from "./parser.ts";
import { ErrorCode, statusOf } from "./errors.ts";

const LIMITS: HeadLimits = { maxHeaderBytes: 16384, maxHeaderCount: 100, maxRequestTargetBytes: 8192 };

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function newScan(): HeadScan {
  return { start: 0, pos: 0, lineStart: 0, pastRequestLine: false, error: 0, emptyLines: 0 };
}

/** Runs findHeadEnd then parseHead on a whole head; returns the code and the head. */
function parse(s: string, limits: HeadLimits = LIMITS): { code: number; head: RequestHead; end: number } {
  const buf = bytes(s);
  const scan = newScan();
  resetScan(scan, 0);
  const end = findHeadEnd(buf, buf.length, scan, limits);
  const head = new RequestHead();
  if (end === HEAD_ERROR) return { code: scan.error, head, end };
  if (end === HEAD_INCOMPLETE) return { code: -1, head, end };
  return { code: parseHead(buf, scan.start, end, head, limits), head, end };
}

const H = "Host: x\r\n";
const ok = ErrorCode.NONE;

/** [name, head, expected code, expected fields] */
const CASES: [string, string, number, Partial<Record<keyof RequestHead, unknown>>?][] = [
  ["simple GET", `GET / HTTP/1.1\r\n${H}\r\n`, ok, { method: "GET", minor: 1, keepAlive: true, contentLength: -1, chunked: false }],
  ["HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", ok, { minor: 0, keepAlive: false }],
  ["HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ok, { minor: 0, keepAlive: true }],
  ["HTTP/1.0 keep-alive, close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", ok, { keepAlive: false }],
  ["HTTP/1.1 close", `GET / HTTP/1.1\r\n${H}Connection: CLOSE\r\n\r\n`, ok, { keepAlive: false }],
  ["HTTP/1.2 is 1.1", `GET / HTTP/1.2\r\n${H}\r\n`, ok, { minor: 1 }],
  ["interned POST", `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\n`, ok, { method: "POST", contentLength: 3 }],
  ["asterisk-form with another method", `M-SEARCH * HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_TARGET],
  ["lowercase method kept", `get / HTTP/1.1\r\n${H}\r\n`, ok, { method: "get" }],
  ["OPTIONS *", `OPTIONS * HTTP/1.1\r\n${H}\r\n`, ok, { method: "OPTIONS" }],
  ["absolute-form", `GET http://a.b:1/c HTTP/1.1\r\n${H}\r\n`, ok],
  ["absolute-form with userinfo", `GET http://u@a/ HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_TARGET],
  ["absolute-form without host", `GET http:///a HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_TARGET],
  ["authority-form GET", `GET a:1 HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_TARGET],
  ["CONNECT", `CONNECT a:1 HTTP/1.1\r\n${H}\r\n`, ErrorCode.METHOD_NOT_IMPLEMENTED],
  ["leading CRLFs", `\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, ok, { method: "GET" }],
  ["empty method", ` / HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_REQUEST_LINE],
  ["bad method", `G@T / HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_METHOD],
  ["no target", `GET\r\n${H}\r\n`, ErrorCode.INVALID_REQUEST_LINE],
  ["double space", `GET  / HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_REQUEST_LINE],
  ["no version", `GET /\r\n${H}\r\n`, ErrorCode.INVALID_REQUEST_LINE],
  ["# in target", `GET /#a HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_TARGET],
  ["non-ASCII in target", `GET /\xff HTTP/1.1\r\n${H}\r\n`, ErrorCode.INVALID_TARGET],
  ["lowercase version", `GET / http/1.1\r\n${H}\r\n`, ErrorCode.INVALID_VERSION],
  ["HTTP/2.0", `GET / HTTP/2.0\r\n${H}\r\n`, ErrorCode.UNSUPPORTED_VERSION],
  ["HTTP/1.1 trailing space", `GET / HTTP/1.1 \r\n${H}\r\n`, ErrorCode.INVALID_VERSION],
  ["missing Host", "GET / HTTP/1.1\r\n\r\n", ErrorCode.MISSING_HOST],
  ["duplicate Host", `GET / HTTP/1.1\r\n${H}${H}\r\n`, ErrorCode.DUPLICATE_HOST],
  ["empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host with port", "GET / HTTP/1.1\r\nHost: a.b:80\r\n\r\n", ok],
  ["Host with empty port", "GET / HTTP/1.1\r\nHost: a.b:\r\n\r\n", ok],
  ["Host IPv6", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", ok],
  ["Host pct-encoded", "GET / HTTP/1.1\r\nHost: a%41b\r\n\r\n", ok],
  ["Host bad pct-encoding", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host bad port", "GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host only port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host empty brackets", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host junk after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", ErrorCode.INVALID_HOST],
  ["Host userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", ErrorCode.INVALID_HOST],
  ["space before colon", `GET / HTTP/1.1\r\n${H}A : b\r\n\r\n`, ErrorCode.WHITESPACE_BEFORE_COLON],
  ["obs-fold", `GET / HTTP/1.1\r\n${H}A: b\r\n c\r\n\r\n`, ErrorCode.OBSOLETE_LINE_FOLDING],
  ["empty name", `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`, ErrorCode.INVALID_FIELD_NAME],
  ["NUL in value", `GET / HTTP/1.1\r\n${H}A: \0\r\n\r\n`, ErrorCode.INVALID_FIELD_VALUE],
  ["DEL in value", `GET / HTTP/1.1\r\n${H}A: \x7f\r\n\r\n`, ErrorCode.INVALID_FIELD_VALUE],
  ["CR in value", `GET / HTTP/1.1\r\n${H}A: a\rb\r\n\r\n`, ErrorCode.INVALID_FIELD_VALUE],
  ["obs-text in value", `GET / HTTP/1.1\r\n${H}A: \xe9\r\n\r\n`, ok, { fieldCount: 2 }],
  ["CL zero", `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`, ok, { contentLength: 0 }],
  ["CL leading zeros", `POST / HTTP/1.1\r\n${H}Content-Length: 0000000000000000000042\r\n\r\n`, ok, { contentLength: 42 }],
  ["CL max safe digits", `POST / HTTP/1.1\r\n${H}Content-Length: 999999999999999\r\n\r\n`, ok, { contentLength: 999999999999999 }],
  ["CL 16 digits", `POST / HTTP/1.1\r\n${H}Content-Length: 1000000000000000\r\n\r\n`, ErrorCode.BODY_TOO_LARGE],
  ["CL huge with junk is 400, not 413", `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999x\r\n\r\n`, ErrorCode.INVALID_CONTENT_LENGTH],
  ["CL plus", `POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\n`, ErrorCode.INVALID_CONTENT_LENGTH],
  ["CL list", `POST / HTTP/1.1\r\n${H}Content-Length: 1, 1\r\n\r\n`, ErrorCode.INVALID_CONTENT_LENGTH],
  ["CL empty", `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n`, ErrorCode.INVALID_CONTENT_LENGTH],
  ["CL twice", `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\n`, ErrorCode.DUPLICATE_CONTENT_LENGTH],
  ["TE chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, ok, { chunked: true, contentLength: -1 }],
  ["TE Chunked OWS", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \tChunked \r\n\r\n`, ok, { chunked: true }],
  ["TE gzip, chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, ErrorCode.UNSUPPORTED_TRANSFER_CODING],
  ["TE chunked, gzip", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked twice", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE identity", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE empty", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked then an empty TE field", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked then a TE field of spaces", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding:  \r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked then a TE field of one comma", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: ,\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked with a trailing empty element", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked with trailing empty elements", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, ,\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE chunked, then OWS comma OWS", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\t, \r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE leading empty element is ignored", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n`, ok, { chunked: true }],
  ["TE xchunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_NOT_CHUNKED],
  ["TE + CL", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_WITH_CONTENT_LENGTH],
  ["TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrorCode.TRANSFER_ENCODING_IN_HTTP10],
  ["Expect 100-continue", `POST / HTTP/1.1\r\n${H}Expect: 100-Continue\r\n\r\n`, ok, { expectContinue: true }],
  ["Expect in 1.0 ignored", "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", ok, { expectContinue: false }],
  ["Expect other", `POST / HTTP/1.1\r\n${H}Expect: x\r\n\r\n`, ErrorCode.EXPECTATION_FAILED],
  ["Expect other after bad framing", `POST / HTTP/1.1\r\nExpect: x\r\n${H}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`, ErrorCode.TRANSFER_ENCODING_WITH_CONTENT_LENGTH],
  ["bare LF", `GET / HTTP/1.1\n${H}\r\n`, ErrorCode.INVALID_LINE_ENDING],
  ["CR CR LF line", `GET / HTTP/1.1\r\n${H}\r\r\n`, ErrorCode.INVALID_LINE_ENDING],
  ["bare CRs and no LF at all", "GET / HTTP/1.1\rHost: a\r\r", ErrorCode.INVALID_LINE_ENDING],
  ["bare CR where the blank line should be", `GET / HTTP/1.1\r\n${H}\rabc`, ErrorCode.INVALID_LINE_ENDING],
  ["bare CR inside an unfinished field value", `GET / HTTP/1.1\r\n${H}X: a\rb`, ErrorCode.INVALID_LINE_ENDING],
  ["bare CR in a line longer than 64 bytes", `GET / HTTP/1.1\r\n${H}X: ${"v".repeat(100)}\rb`, ErrorCode.INVALID_LINE_ENDING],
  ["bare LF after a long line's bare CR", `GET / HTTP/1.1\r\n${H}X: ${"v".repeat(100)}\rb\n`, ErrorCode.INVALID_LINE_ENDING],
  ["100 fields", `GET / HTTP/1.1\r\n${H}${"A: b\r\n".repeat(99)}\r\n`, ok, { fieldCount: 100 }],
  ["101 fields", `GET / HTTP/1.1\r\n${H}${"A: b\r\n".repeat(100)}\r\n`, ErrorCode.TOO_MANY_HEADERS],
  ["head too large", `GET / HTTP/1.1\r\n${H}A: ${"b".repeat(16384)}\r\n\r\n`, ErrorCode.HEADERS_TOO_LARGE],
  ["target too long", `GET /${"a".repeat(8192)} HTTP/1.1\r\n${H}\r\n`, ErrorCode.TARGET_TOO_LONG],
  ["target far too long", `GET /${"a".repeat(20000)} HTTP/1.1\r\n${H}\r\n`, ErrorCode.TARGET_TOO_LONG],
];

for (const [name, input, code, fields] of CASES) {
  test(`parseHead: ${name}`, () => {
    const r = parse(input);
    assert.equal(r.code, code, `code ${r.code} (status ${statusOf(r.code)}), expected ${code}`);
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) {
        assert.deepEqual((r.head as unknown as Record<string, unknown>)[k], v, `field ${k}`);
      }
    }
  });

  test(`findHeadEnd byte by byte agrees: ${name}`, () => {
    const whole = parse(input);
    // Feed a growing buffer one byte at a time, as the connection does.
    const buf = bytes(input);
    const scan = newScan();
    resetScan(scan, 0);
    let end = HEAD_INCOMPLETE;
    let n = 0;
    while (end === HEAD_INCOMPLETE && n < buf.length) {
      n++;
      end = findHeadEnd(buf, n, scan, LIMITS);
    }
    if (whole.end === HEAD_ERROR) {
      assert.equal(end, HEAD_ERROR);
      assert.equal(scan.error, whole.code);
    } else if (end === HEAD_ERROR) {
      // A bare CR seen in an incomplete head is refused there; whole, the
      // head is refused by parseHead: another code, the same answer.
      assert.equal(scan.error, ErrorCode.INVALID_LINE_ENDING);
      assert.notEqual(whole.code, ErrorCode.NONE);
      assert.equal(statusOf(scan.error), statusOf(whole.code));
    } else {
      assert.equal(end, whole.end);
    }
  });
}

test("parseHead: method, target and host offsets", () => {
  const buf = bytes("PATCH /a?b HTTP/1.1\r\nHost: h:1\r\nX-Y:  z \r\n\r\n");
  const scan = newScan();
  resetScan(scan, 0);
  const end = findHeadEnd(buf, buf.length, scan, LIMITS);
  assert.equal(end, buf.length);
  const head = new RequestHead();
  assert.equal(parseHead(buf, 0, end, head, LIMITS), ErrorCode.NONE);
  const text = (s: number, e: number) => String.fromCharCode(...buf.subarray(s, e));
  assert.equal(head.method, "PATCH");
  assert.equal(text(head.targetStart, head.targetEnd), "/a?b");
  assert.equal(text(head.hostStart, head.hostEnd), "h:1");
  const fields: [string, string][] = [];
  forEachField(head, (n, v) => fields.push([n, v]), null);
  assert.deepEqual(fields, [["Host", "h:1"], ["X-Y", "z"]]);
});

test("parseHead: a head that does not start at 0", () => {
  const buf = bytes("junkGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  const scan = newScan();
  resetScan(scan, 4);
  const end = findHeadEnd(buf, buf.length, scan, LIMITS);
  assert.equal(end, buf.length);
  const head = new RequestHead();
  assert.equal(parseHead(buf, 4, end, head, LIMITS), ErrorCode.NONE);
  assert.equal(head.targetStart, 8);
});

test("findHeadEnd: incomplete, then complete, and stops at the blank line", () => {
  const buf = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next");
  const scan = newScan();
  resetScan(scan, 0);
  assert.equal(findHeadEnd(buf, 10, scan, LIMITS), HEAD_INCOMPLETE);
  assert.equal(findHeadEnd(buf, 26, scan, LIMITS), HEAD_INCOMPLETE);
  assert.equal(findHeadEnd(buf, buf.length, scan, LIMITS), 27);
});

test("findHeadEnd: leading CRLF split across reads is skipped", () => {
  const buf = bytes("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const scan = newScan();
  resetScan(scan, 0);
  assert.equal(findHeadEnd(buf, 1, scan, LIMITS), HEAD_INCOMPLETE);
  const end = findHeadEnd(buf, buf.length, scan, LIMITS);
  assert.equal(end, buf.length);
  assert.equal(scan.start, 2);
  const head = new RequestHead();
  assert.equal(parseHead(buf, scan.start, end, head, LIMITS), ErrorCode.NONE);
  assert.equal(head.method, "GET");
});

test("findHeadEnd: limits give the same answer at every split", () => {
  const limits: HeadLimits = { maxHeaderBytes: 64, maxHeaderCount: 10, maxRequestTargetBytes: 32 };
  const inputs: [string, number][] = [
    [`GET /${"a".repeat(31)} HTTP/1.1\r\n${H}\r\n`, -3], // fits: parseHead decides
    [`GET /${"a".repeat(80)} HTTP/1.1\r\n${H}\r\n`, ErrorCode.TARGET_TOO_LONG],
    [`GET / HTTP/1.1\r\n${H}A: ${"b".repeat(60)}\r\n\r\n`, ErrorCode.HEADERS_TOO_LARGE],
  ];
  for (const [input, code] of inputs) {
    const buf = bytes(input);
    for (let k = 1; k <= buf.length; k++) {
      const scan = newScan();
      resetScan(scan, 0);
      let r = findHeadEnd(buf, k, scan, limits);
      if (r === HEAD_INCOMPLETE) r = findHeadEnd(buf, buf.length, scan, limits);
      if (code === -3) assert.equal(r, buf.length, `split ${k}`);
      else {
        assert.equal(r, HEAD_ERROR, `split ${k}`);
        assert.equal(scan.error, code, `split ${k}`);
      }
    }
  }
});

test("findHeadEnd: a bare CR is refused as soon as the byte after it arrives", () => {
  const inputs = [
    "GET / HTTP/1.1\rHost: a\r\r",
    `GET / HTTP/1.1\r\n${H}\rabc`,
    `GET / HTTP/1.1\r\n${H}X: ${"v".repeat(100)}\rb`,
    `GET /${"p".repeat(100)}\rHTTP/1.1`,
  ];
  for (const input of inputs) {
    const buf = bytes(input);
    let at = 0;
    while (!(input[at] === "\r" && input[at + 1] !== "\n")) at++;
    const bare = at + 1; // with this many bytes the byte after the bare CR is not here yet
    // Fed growing, one byte at a time: incomplete until the byte after the bare CR.
    const scan = newScan();
    resetScan(scan, 0);
    for (let n = 1; n <= buf.length; n++) {
      const r = findHeadEnd(buf, n, scan, LIMITS);
      if (n <= bare) assert.equal(r, HEAD_INCOMPLETE, `${JSON.stringify(input)} at ${n}`);
      else {
        assert.equal(r, HEAD_ERROR, `${JSON.stringify(input)} at ${n}`);
        assert.equal(scan.error, ErrorCode.INVALID_LINE_ENDING);
        break;
      }
    }
  }
});
