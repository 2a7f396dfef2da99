import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "./errors.ts";
import { HEAD_ERROR, HEAD_INCOMPLETE, HeadReader } from "./head_reader.ts";

const LIMITS = { maxHeaderBytes: 8192, maxHeaderCount: 100, maxRequestTargetBytes: 4096 };
const bytes = (s: string) => new TextEncoder().encode(s);
const HEAD = "GET /a HTTP/1.1\r\nHost: x\r\nX-Long: " + "v".repeat(50) + "\r\n\r\n";

/** Feeds `head` cut at `cut` through `first` for the first read, then the reader it returns. */
function feedSplit(first: HeadReader, head: string, cut: number, hand: (r: HeadReader) => HeadReader) {
  const all = bytes(head);
  const r1 = first.find(all.subarray(0, cut), 0, cut, 100, LIMITS);
  assert.equal(r1, HEAD_INCOMPLETE);
  const own = hand(first);
  const kept = own.keep(all.subarray(0, cut), cut);
  const rest = all.subarray(cut);
  const buf = new Uint8Array((kept?.length ?? 0) + rest.length);
  if (kept !== null) buf.set(kept, 0);
  buf.set(rest, kept?.length ?? 0);
  return { end: own.find(buf, 0, buf.length, 200, LIMITS), own, buf };
}

describe("HeadReader.detach", () => {
  it("carries an incomplete scan to a new reader, at every cut, with the same result as one reader", () => {
    for (let cut = 1; cut < HEAD.length; cut++) {
      const same = feedSplit(new HeadReader(), HEAD, cut, (r) => r);
      const shared = new HeadReader();
      const moved = feedSplit(shared, HEAD, cut, (r) => r.detach());
      assert.equal(moved.end, same.end, `cut ${cut}`);
      assert.equal(moved.end, HEAD.length, `cut ${cut}`);
      assert.equal(moved.own.start, same.own.start, `cut ${cut}`);
      // The shared reader is reset: a new head scans from where it is told.
      assert.equal(shared.startedAt, 0);
      const next = bytes("xxGET / HTTP/1.1\r\nHost: y\r\n\r\n");
      assert.equal(shared.find(next, 2, next.length, 300, LIMITS), next.length);
      assert.equal(shared.start, 2);
    }
  });

  it("carries the head's clock, and a paused clock, to the new reader", () => {
    const shared = new HeadReader();
    const part = bytes("GET / HT");
    assert.equal(shared.find(part, 0, part.length, 1000, LIMITS), HEAD_INCOMPLETE);
    shared.paused(true, 1500);
    const own = shared.detach();
    assert.equal(own.startedAt, 1000);
    assert.equal(own.clockStopped, true);
    assert.equal(shared.startedAt, 0);
    assert.equal(shared.clockStopped, false);
    own.paused(false, 2500);
    // The second it was paused does not count against the client.
    assert.equal(own.startedAt, 2000);
  });

  it("counts the bytes before the hand-over against the limit, as one reader does", () => {
    // 88 bytes cut at 30: the 58 after the cut fit in 70, the whole head does not.
    const all = bytes(HEAD);
    const feed = (limit: number) => {
      const shared = new HeadReader();
      assert.equal(shared.find(all.subarray(0, 30), 0, 30, 1, { ...LIMITS, maxHeaderBytes: limit }), HEAD_INCOMPLETE);
      const own = shared.detach();
      const kept = own.keep(all.subarray(0, 30), 30)!;
      const buf = new Uint8Array(kept.length + all.length - 30);
      buf.set(kept, 0);
      buf.set(all.subarray(30), kept.length);
      return { end: own.find(buf, 0, buf.length, 2, { ...LIMITS, maxHeaderBytes: limit }), own };
    };
    const refused = feed(70);
    assert.equal(refused.end, HEAD_ERROR);
    assert.equal(refused.own.error, ErrorCode.HEADERS_TOO_LARGE);
    assert.equal(feed(100).end, HEAD.length);
  });
});
