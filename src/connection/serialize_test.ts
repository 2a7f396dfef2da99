import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OutBuffer } from "../http/writer.ts";
import { writeHead } from "./serialize.ts";
import type { Exchange } from "./exchange.ts";

const DATE = new TextEncoder().encode("Date: Wed, 02 Dec 2026 12:00:00 GMT\r\n");
const KEEP_ALIVE = new TextEncoder().encode("Keep-Alive: timeout=5\r\n");

/** The head writeHead writes for `fields`, and what became of the exchange. */
function head(fields: [string, string][], opts: { impliedType?: string; length?: number; status?: number; minor?: number; date?: Uint8Array; keepAlive?: Uint8Array } = {}) {
  let answered = false;
  const ex = {
    response: { statusText: "", headers: { forEach() {} } },
    status: opts.status ?? 200,
    fields,
    impliedType: opts.impliedType ?? null,
    close: false,
    head: { method: "GET", minor: opts.minor ?? 1 },
    chunks: null,
    text: null,
    nextRead: null,
    error: null,
    answerWith() {
      answered = true;
      // writeReady after a bad field writes the prebuilt 500: stop it there.
      (ex as { error: unknown }).error = { head: new Uint8Array(0), tail: new Uint8Array(0), keepsConnection: false };
    },
  };
  const out = new OutBuffer();
  const ok = writeHead(out, ex as unknown as Exchange, opts.length ?? 13, opts.date ?? DATE, opts.keepAlive ?? KEEP_ALIVE);
  return { ok, answered, close: ex.close, text: new TextDecoder("latin1").decode(out.take()) };
}

const expected = (lines: string[], tail = "Content-Length: 13\r\nKeep-Alive: timeout=5\r\n\r\n") =>
  `HTTP/1.1 200 OK\r\n${lines.map((l) => l + "\r\n").join("")}Date: Wed, 02 Dec 2026 12:00:00 GMT\r\n${tail}`;

describe("writeHead: field lines written from the cache", () => {
  it("writes a repeated field the same the first, second and later times", () => {
    const fields: [string, string][] = [["content-type", "text/plain; charset=UTF-8"], ["x-cache-test-a", "one"]];
    const want = expected(["content-type: text/plain; charset=UTF-8", "x-cache-test-a: one"]);
    for (let i = 0; i < 4; i++) assert.equal(head(fields).text, want, `time ${i + 1}`);
  });

  it("keeps names apart: a value cached under one name is not written under another, and a mixed-case name is written lowercase", () => {
    for (let i = 0; i < 3; i++) assert.equal(head([["x-first-name", "7"]]).text, expected(["x-first-name: 7"]));
    for (let i = 0; i < 3; i++) assert.equal(head([["x-second-name", "7"]]).text, expected(["x-second-name: 7"]));
    for (let i = 0; i < 3; i++) assert.equal(head([["X-Second-Name", "7"]]).text, expected(["x-second-name: 7"]));
    assert.equal(head([["x-first-name", "7"], ["x-second-name", "7"]]).text, expected(["x-first-name: 7", "x-second-name: 7"]));
  });

  it("still knows a cached Content-Type as the response's type", () => {
    // The runtime's implied type is written only when the fields have no Content-Type.
    for (let i = 0; i < 3; i++) {
      const { text } = head([["content-type", "application/x-cache-test"]], { impliedType: "text/plain;charset=UTF-8" });
      assert.equal(text, expected(["content-type: application/x-cache-test"]), `time ${i + 1}`);
    }
    assert.equal(head([], { impliedType: "text/plain;charset=UTF-8" }).text, expected(["content-type: text/plain;charset=UTF-8"]));
  });

  it("never caches the framing fields: Content-Length, Connection: close and a handler's Date act every time", () => {
    for (let i = 0; i < 3; i++) {
      const { text, close } = head([["connection", "close"], ["content-length", "99"], ["date", "Tue, 01 Dec 2026 00:00:00 GMT"]]);
      assert.equal(close, true);
      assert.equal(
        text,
        "HTTP/1.1 200 OK\r\ndate: Tue, 01 Dec 2026 00:00:00 GMT\r\nContent-Length: 13\r\nConnection: close\r\n\r\n",
      );
    }
  });

  it("rejects a bad field every time, after a good one was cached beside it", () => {
    for (let i = 0; i < 3; i++) assert.equal(head([["x-good", "fine"]]).ok, true);
    for (let i = 0; i < 3; i++) {
      const r = head([["x-good", "fine"], ["x-bad", "a\r\nInjected: yes"]]);
      assert.equal(r.ok, false);
      assert.equal(r.answered, true);
    }
  });

  it("writes a value that differs on every response (never cached) right", () => {
    for (let i = 0; i < 5; i++) assert.equal(head([["etag", `"v${i}"`]]).text, expected([`etag: "v${i}"`]));
  });

  it("writes right across its tables being emptied (more lines than they hold)", () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1500; i++) {
        const fields: [string, string][] = [["x-many", `value-${i}`]];
        assert.equal(head(fields).text, expected([`x-many: value-${i}`]));
        assert.equal(head(fields).text, expected([`x-many: value-${i}`]));
      }
    }
  });
});

describe("writeHead: the head's end from the cache", () => {
  it("matches the general path for each length, status and version", () => {
    for (const length of [0, 1, 13, 1023, 1024, 5000]) {
      for (let i = 0; i < 2; i++) {
        assert.equal(head([], { length }).text, expected([], `Content-Length: ${length}\r\nKeep-Alive: timeout=5\r\n\r\n`));
      }
    }
    // No length on 204 and 304; HTTP/1.0 says keep-alive out loud.
    assert.equal(head([], { status: 204, length: 0 }).text, "HTTP/1.1 204 No Content\r\n" + new TextDecoder().decode(DATE) + "Keep-Alive: timeout=5\r\n\r\n");
    assert.equal(
      head([], { minor: 0 }).text,
      "HTTP/1.1 200 OK\r\n" + new TextDecoder().decode(DATE) + "Content-Length: 13\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n",
    );
  });

  it("follows a new Date line and another idle timeout", () => {
    const later = new TextEncoder().encode("Date: Wed, 02 Dec 2026 12:00:01 GMT\r\n");
    const other = new TextEncoder().encode("Keep-Alive: timeout=30\r\n");
    assert.match(head([]).text, /12:00:00 GMT\r\nContent-Length: 13\r\nKeep-Alive: timeout=5\r\n\r\n$/);
    assert.match(head([], { date: later }).text, /12:00:01 GMT\r\nContent-Length: 13\r\nKeep-Alive: timeout=5\r\n\r\n$/);
    assert.match(head([], { date: later, keepAlive: other }).text, /12:00:01 GMT\r\nContent-Length: 13\r\nKeep-Alive: timeout=30\r\n\r\n$/);
    assert.match(head([], { date: later }).text, /12:00:01 GMT\r\nContent-Length: 13\r\nKeep-Alive: timeout=5\r\n\r\n$/);
  });
});
