import { test } from "node:test";
import * as assert from "node:assert/strict";
import { ChunkedDecoder } from "./chunked.ts";
import { ErrorCode } from "./errors.ts";

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

interface Result {
  body: string;
  /** Index just past the message, -1 on error, or the input length when incomplete. */
  end: number;
  done: boolean;
  error: number;
}

/** Decodes `input` fed in pieces of `step` bytes (0: whole). */
function decode(input: string, step = 0, maxBody = 1 << 20, maxTrailer = 1024): Result {
  const buf = bytes(input);
  const d = new ChunkedDecoder(maxBody, maxTrailer);
  let body = "";
  const sink = (b: Uint8Array, s: number, e: number) => {
    for (let i = s; i < e; i++) body += String.fromCharCode(b[i]);
  };
  let i = 0;
  const size = step === 0 ? buf.length : step;
  while (i < buf.length) {
    const end = Math.min(buf.length, i + size);
    const r = d.decode(buf, i, end, sink);
    if (r < 0) return { body, end: -1, done: false, error: d.error };
    if (d.done) return { body, end: r, done: true, error: 0 };
    assert.equal(r, end, "an incomplete decode consumes everything it is given");
    i = end;
  }
  return { body, end: buf.length, done: d.done, error: d.error };
}

const E = ErrorCode;
/** [name, input, body, error (0: completes), trailing bytes left after the message] */
const CASES: [string, string, string, number, number?][] = [
  ["empty body", "0\r\n\r\n", "", 0],
  ["one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", 0],
  ["several chunks", "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", "abcdef", 0],
  ["uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0],
  ["lowercase hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0],
  ["leading zeros", "0005\r\nhello\r\n0000\r\n\r\n", "hello", 0],
  ["data with CRLF", "2\r\n\r\n\r\n0\r\n\r\n", "\r\n", 0],
  ["stops after the message", "1\r\na\r\n0\r\n\r\nGET", "a", 0, 3],
  ["ext token", "1;a=b\r\nx\r\n0\r\n\r\n", "x", 0],
  ["ext no value", "1;a\r\nx\r\n0;b\r\n\r\n", "x", 0],
  ["ext several", "1;a;b=c;d=e\r\nx\r\n0\r\n\r\n", "x", 0],
  ["ext BWS", "1 \t; a = b ;c\r\nx\r\n0\r\n\r\n", "x", 0],
  ["ext quoted", '1;a="b c;d=e"\r\nx\r\n0\r\n\r\n', "x", 0],
  ["ext quoted escape", '1;a="\\"\\\\"\r\nx\r\n0\r\n\r\n', "x", 0],
  ["ext quoted obs-text", '1;a="\xe9"\r\nx\r\n0\r\n\r\n', "x", 0],
  ["ext quoted then BWS ;", '1;a="b" ;c\r\nx\r\n0\r\n\r\n', "x", 0],
  ["ext empty quoted", '1;a=""\r\nx\r\n0\r\n\r\n', "x", 0],
  ["trailer", "1\r\nx\r\n0\r\nA: b\r\nC:\r\n\r\n", "x", 0],
  ["trailer obs-text", "0\r\nA: \xe9\r\n\r\n", "", 0],
  ["empty size", "\r\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["negative size", "-1\r\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["plus size", "+1\r\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["space before size", " 1\r\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["0x prefix", "0x1\r\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["non-hex", "g\r\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["bare LF after size", "1\nx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["CR junk after size", "1\rx\r\n", "", E.INVALID_CHUNK_SIZE],
  ["space then CRLF", "1 \r\nx\r\n0\r\n\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["tab then CRLF on last chunk", "0\t\r\n\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["overflow", "fffffffffffffffffff\r\n", "", E.INVALID_CHUNK_SIZE],
  ["2^53", "20000000000000\r\n", "", E.INVALID_CHUNK_SIZE],
  ["2^53 - 1 over body limit", "1fffffffffffff\r\n", "", E.BODY_TOO_LARGE],
  ["ext empty name", "1;\r\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext = without name", "1;=a\r\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext = without value", "1;a=\r\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext value not a token", "1;a=b@\r\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext trailing space", "1;a=b \r\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext name trailing space", "1;a \r\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext junk after quoted", '1;a="b"c\r\nx\r\n', "", E.INVALID_CHUNK_EXTENSION],
  ["ext CR in quoted", '1;a="b\r\nx\r\n', "", E.INVALID_CHUNK_EXTENSION],
  ["ext NUL in quoted", '1;a="\0"\r\nx\r\n', "", E.INVALID_CHUNK_EXTENSION],
  ["ext DEL in quoted", '1;a="\x7f"\r\nx\r\n', "", E.INVALID_CHUNK_EXTENSION],
  ["ext bare LF", "1;a\nx\r\n", "", E.INVALID_CHUNK_EXTENSION],
  ["ext too long", `1;a=${"b".repeat(5000)}\r\nx\r\n`, "", E.INVALID_CHUNK_EXTENSION],
  ["data not followed by CRLF", "1\r\nxy\r\n", "x", E.INVALID_CHUNK_DATA],
  ["data followed by bare LF", "1\r\nx\n0\r\n\r\n", "x", E.INVALID_CHUNK_DATA],
  ["data followed by CR junk", "1\r\nx\rz", "x", E.INVALID_CHUNK_DATA],
  ["trailer space before colon", "0\r\nA : b\r\n\r\n", "", E.INVALID_TRAILER],
  ["trailer obs-fold", "0\r\nA: b\r\n c\r\n\r\n", "", E.INVALID_TRAILER],
  ["trailer no colon", "0\r\nA\r\n\r\n", "", E.INVALID_TRAILER],
  ["trailer empty name", "0\r\n: b\r\n\r\n", "", E.INVALID_TRAILER],
  ["trailer NUL", "0\r\nA: \0\r\n\r\n", "", E.INVALID_TRAILER],
  ["trailer bare LF", "0\r\nA: b\n\r\n", "", E.INVALID_TRAILER],
  ["last chunk bare LF", "0\r\n\n", "", E.INVALID_TRAILER],
  ["last chunk CR junk", "0\r\n\rx", "", E.INVALID_TRAILER],
  ["trailer section too large", `0\r\nA: ${"b".repeat(2000)}\r\n\r\n`, "", E.HEADERS_TOO_LARGE],
];

for (const [name, input, body, error, left = 0] of CASES) {
  for (const step of [0, 1, 2, 3, 7]) {
    test(`ChunkedDecoder: ${name} (${step === 0 ? "whole" : `${step}-byte reads`})`, () => {
      const r = decode(input, step);
      if (error === 0) {
        assert.equal(r.error, 0, `error ${r.error}`);
        assert.ok(r.done, "completes");
        assert.equal(r.body, body);
        assert.equal(r.end, input.length - left);
      } else {
        assert.equal(r.end, -1, "fails");
        assert.equal(r.error, error);
        // Data before the error may have been handed out, never more.
        assert.ok(body.startsWith(r.body), `body ${JSON.stringify(r.body)}`);
      }
    });
  }
}

test("ChunkedDecoder: maxBodyBytes counts across chunks", () => {
  assert.equal(decode("2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", 0, 4).body, "abcd");
  const r = decode("2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n", 0, 4);
  assert.equal(r.error, ErrorCode.BODY_TOO_LARGE);
  assert.equal(r.body, "ab");
});

test("ChunkedDecoder: reset starts a new message", () => {
  const d = new ChunkedDecoder(100, 100);
  const sink = () => {};
  const a = bytes("1\r\nx\r\n0\r\n\r\n");
  assert.equal(d.decode(a, 0, a.length, sink), a.length);
  assert.ok(d.done);
  assert.equal(d.bodyBytes, 1);
  d.reset(100);
  assert.ok(!d.done);
  assert.equal(d.bodyBytes, 0);
  const b = bytes("2\r\nyz\r\n0\r\n\r\n");
  assert.equal(d.decode(b, 0, b.length, sink), b.length);
  assert.equal(d.bodyBytes, 2);
});
