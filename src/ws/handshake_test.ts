import { test } from "node:test";
import assert from "node:assert/strict";
import { acceptKey, acceptUpgrade, negotiateDeflate, parseExtensions, refusalResponse } from "./handshake.ts";
import { base64, sha1 } from "./sha1.ts";
import { isValidUtf8, Utf8Validator } from "./utf8.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const enc = new TextEncoder();

test("SHA-1 and base64 match known vectors", () => {
  assert.equal(hex(sha1(new Uint8Array(0))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert.equal(hex(sha1(enc.encode("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(
    hex(sha1(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  );
  assert.equal(hex(sha1(new Uint8Array(1000).fill(0x61))), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
  assert.equal(base64(enc.encode("")), "");
  assert.equal(base64(enc.encode("f")), "Zg==");
  assert.equal(base64(enc.encode("fo")), "Zm8=");
  assert.equal(base64(enc.encode("foo")), "Zm9v");
  assert.equal(base64(enc.encode("foobar")), "Zm9vYmFy");
});

test("accept key: RFC 6455 §1.3 example", () => {
  assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
function req(fields: Record<string, string>, method = "GET") {
  return { method, headers: new Headers(fields) };
}
const good = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": KEY };

test("a valid handshake gets the 101 fields", () => {
  const r = acceptUpgrade(req({ ...good, upgrade: "WebSocket", connection: "keep-alive, upgrade" }));
  assert.ok(r.ok);
  assert.deepEqual(r.headers, [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
  ]);
  assert.equal(r.protocol, "");
  assert.equal(r.deflate, null);
});

const refusals: [string, ReturnType<typeof req>, number, string?][] = [
  ["POST", req(good, "POST"), 400],
  ["no Upgrade", req({ ...good, upgrade: "" }), 400],
  ["Upgrade: h2c", req({ ...good, upgrade: "h2c" }), 400],
  ["no Connection: upgrade", req({ ...good, connection: "keep-alive" }), 400],
  ["version 8", req({ ...good, "sec-websocket-version": "8" }), 426],
  ["no version", req({ upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": KEY }), 426],
  ["no key", req({ upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" }), 400],
  ["short key", req({ ...good, "sec-websocket-key": "dGhlIHNhbXBsZQ==" }), 400],
  ["key of 17 bytes", req({ ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZTE=" }), 400],
  ["key with bad char", req({ ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25j*Q==" }), 400],
  ["key with non-zero pad bits", req({ ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZR==" }), 400],
];
for (const [name, r, status] of refusals) {
  test(`handshake refused: ${name} → ${status}`, async () => {
    const out = acceptUpgrade(r);
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.status, status);
    const res = refusalResponse(out);
    assert.equal(res.status, status);
    if (status === 426) assert.equal(res.headers.get("sec-websocket-version"), "13");
    await res.text();
  });
}

test("HTTP/1.0 is refused", () => {
  const out = acceptUpgrade(req(good), {}, "1.0");
  assert.equal(out.ok, false);
});

test("subprotocol: server preference among offered, never one not offered", () => {
  const r = req({ ...good, "sec-websocket-protocol": "chat, superchat" });
  let out = acceptUpgrade(r, { protocols: ["superchat", "chat"] });
  assert.ok(out.ok && out.protocol === "superchat");
  assert.deepEqual(out.ok && out.headers.at(-1), ["Sec-WebSocket-Protocol", "superchat"]);
  out = acceptUpgrade(r, { protocols: ["mqtt"] });
  assert.ok(out.ok && out.protocol === "" && out.headers.length === 3);
  out = acceptUpgrade(r, { protocols: (offered) => offered[1] });
  assert.ok(out.ok && out.protocol === "superchat");
  out = acceptUpgrade(r, { protocols: () => "evil" });
  assert.ok(out.ok && out.protocol === "");
  out = acceptUpgrade(req(good), { protocols: ["chat"] });
  assert.ok(out.ok && out.protocol === "");
});

test("extension field parsing", () => {
  assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10", x-foo'), [
    { name: "permessage-deflate", params: [["client_max_window_bits", null]] },
    { name: "permessage-deflate", params: [["server_max_window_bits", "10"]] },
    { name: "x-foo", params: [] },
  ]);
  assert.equal(parseExtensions('permessage-deflate; a="unterminated'), null);
  assert.equal(parseExtensions("permessage-deflate; =1"), null);
});

const deflateCases: [string, string, object, string | null][] = [
  ["plain offer", "permessage-deflate", {}, "permessage-deflate"],
  ["browser offer", "permessage-deflate; client_max_window_bits", {}, "permessage-deflate"],
  [
    "all parameters",
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
    {},
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
  ],
  ["server limits its own window", "permessage-deflate", { serverMaxWindowBits: 12 }, "permessage-deflate; server_max_window_bits=12"],
  [
    "server limits the client window when allowed",
    "permessage-deflate; client_max_window_bits",
    { clientMaxWindowBits: 10 },
    "permessage-deflate; client_max_window_bits=10",
  ],
  ["server asks no context takeover", "permessage-deflate", { serverNoContextTakeover: true, clientNoContextTakeover: true }, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
  ["server window 8 declined, next offer taken", "permessage-deflate; server_max_window_bits=8, permessage-deflate", {}, "permessage-deflate"],
  ["window bits out of range", "permessage-deflate; server_max_window_bits=16", {}, null],
  ["window bits missing value", "permessage-deflate; server_max_window_bits", {}, null],
  ["client window out of range", "permessage-deflate; client_max_window_bits=7", {}, null],
  ["duplicate parameter", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", {}, null],
  ["value on a flag", "permessage-deflate; client_no_context_takeover=1", {}, null],
  ["unknown parameter", "permessage-deflate; foo=1", {}, null],
  ["other extension only", "x-webkit-deflate-frame", {}, null],
];
for (const [name, field, opts, want] of deflateCases) {
  test(`permessage-deflate: ${name}`, () => {
    const got = negotiateDeflate(field, opts);
    assert.equal(got?.header ?? null, want);
  });
}

test("permessage-deflate in the handshake, declined when off", () => {
  const r = req({ ...good, "sec-websocket-extensions": "permessage-deflate; client_max_window_bits=11" });
  const on = acceptUpgrade(r, { perMessageDeflate: true });
  assert.ok(on.ok);
  assert.deepEqual(on.deflate, { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 11 });
  assert.deepEqual(on.headers.at(-1), ["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=11"]);
  const off = acceptUpgrade(r);
  assert.ok(off.ok && off.deflate === null && off.extensions === "");
  const bad = acceptUpgrade(req({ ...good, "sec-websocket-extensions": "permessage-deflate; bogus" }), { perMessageDeflate: true });
  assert.ok(bad.ok && bad.deflate === null);
});

const utf8Cases: [string, number[], boolean][] = [
  ["ascii", [0x48, 0x69], true],
  ["2-byte", [0xc3, 0xa9], true],
  ["3-byte", [0xe2, 0x82, 0xac], true],
  ["4-byte", [0xf0, 0x9f, 0x98, 0x80], true],
  ["U+10FFFF", [0xf4, 0x8f, 0xbf, 0xbf], true],
  ["U+D7FF", [0xed, 0x9f, 0xbf], true],
  ["U+E000", [0xee, 0x80, 0x80], true],
  ["overlong 2-byte", [0xc0, 0xaf], false],
  ["overlong C1", [0xc1, 0xbf], false],
  ["overlong 3-byte", [0xe0, 0x80, 0xaf], false],
  ["overlong 4-byte", [0xf0, 0x80, 0x80, 0xaf], false],
  ["surrogate D800", [0xed, 0xa0, 0x80], false],
  ["surrogate DFFF", [0xed, 0xbf, 0xbf], false],
  ["above U+10FFFF", [0xf4, 0x90, 0x80, 0x80], false],
  ["F5", [0xf5, 0x80, 0x80, 0x80], false],
  ["FF", [0xff], false],
  ["stray continuation", [0x41, 0x80], false],
  ["truncated", [0xe2, 0x82], false],
  ["missing continuation", [0xe2, 0x41, 0x41], false],
];
for (const [name, bytes, ok] of utf8Cases) {
  test(`UTF-8 ${name}: ${ok ? "valid" : "invalid"}, whole and split at every byte`, () => {
    const b = new Uint8Array(bytes);
    assert.equal(isValidUtf8(b), ok);
    for (let cut = 0; cut <= b.length; cut++) {
      const v = new Utf8Validator();
      const r = v.update(b, 0, cut) && v.update(b, cut, b.length) && v.complete;
      assert.equal(r, ok, `cut at ${cut}`);
    }
  });
}

test("UTF-8 fails at the byte that makes it invalid", () => {
  const v = new Utf8Validator();
  assert.equal(v.update(new Uint8Array([0x41, 0xe2]), 0, 2), true);
  assert.equal(v.complete, false);
  assert.equal(v.update(new Uint8Array([0x41]), 0, 1), false);
});

test("UTF-8 agrees with TextDecoder on every 1- and 2-byte sequence and sampled 3/4-byte ones", () => {
  const dec = new TextDecoder("utf-8", { fatal: true });
  const agree = (b: Uint8Array) => {
    let want = true;
    try {
      dec.decode(b);
    } catch {
      want = false;
    }
    assert.equal(isValidUtf8(b), want, hex(b));
  };
  for (let a = 0; a < 256; a++) {
    agree(new Uint8Array([a]));
    for (let c = 0; c < 256; c++) agree(new Uint8Array([a, c]));
  }
  for (const a of [0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf3, 0xf4]) {
    for (let c = 0x70; c < 0xd0; c++) {
      agree(new Uint8Array([a, c, 0x80]));
      agree(new Uint8Array([a, c, 0xbf, 0x80]));
    }
  }
});
