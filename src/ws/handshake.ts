/**
 * The server side of the WebSocket opening handshake (RFC 6455 §4.2):
 * validation of the upgrade request, the `Sec-WebSocket-Accept` value,
 * subprotocol selection, and the permessage-deflate offer (RFC 7692 §5, §7.1).
 *
 * A request that is not a valid handshake gets the RFC's answer: 426 with
 * `Sec-WebSocket-Version: 13` for an unsupported version (§4.2.2 item 4),
 * 400 for anything else (§4.2.1). An extension offer the server cannot
 * accept is declined (the extension is left out of the 101), never failed.
 *
 * @module
 */

import { base64, sha1 } from "./sha1.ts";

/** The GUID every accept hash appends to the key (RFC 6455 §1.3). */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** What the handshake reads from a request: a fetch `Request` fits. */
export interface UpgradeRequest {
  readonly method: string;
  readonly headers: { get(name: string): string | null };
}

/** Server-side permessage-deflate settings; every field is optional. */
export interface DeflateOptions {
  /** Reset the server's compressor after each message (and say so). Default false. */
  serverNoContextTakeover?: boolean;
  /** Ask the client to reset its compressor after each message. Default false. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (8..15) the server compresses with. Default 15. */
  serverMaxWindowBits?: number;
  /** Largest window (8..15) the client may compress with, when the client lets the server choose. Default 15. */
  clientMaxWindowBits?: number;
}

/** The agreed permessage-deflate parameters (RFC 7692 §7.1). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Window the server's compressor uses (9..15). */
  serverMaxWindowBits: number;
  /** Window the client promised to stay within (8..15); the inflater needs at least this. */
  clientMaxWindowBits: number;
}

/** How the server answers an upgrade. */
export interface HandshakeOptions {
  /**
   * Subprotocols the server speaks, in its order of preference, or a
   * function that picks one of those the client offered. A choice the client
   * did not offer is ignored: only an offered protocol is ever echoed.
   */
  protocols?: readonly string[] | ((offered: readonly string[]) => string | null | undefined);
  /** permessage-deflate: false or absent declines every offer. */
  perMessageDeflate?: boolean | DeflateOptions;
}

/** A valid handshake: the 101's extra fields and what was agreed. */
export interface HandshakeAccepted {
  readonly ok: true;
  /** `Upgrade`, `Connection`, `Sec-WebSocket-Accept` and, when agreed, protocol and extensions. */
  readonly headers: [string, string][];
  /** The chosen subprotocol, or `""`. */
  readonly protocol: string;
  /** The `Sec-WebSocket-Extensions` answer, or `""`. */
  readonly extensions: string;
  /** permessage-deflate parameters, or null when not negotiated. */
  readonly deflate: DeflateParams | null;
}

/** An invalid handshake: the status and fields of the error response. */
export interface HandshakeRefused {
  readonly ok: false;
  readonly status: 400 | 426;
  readonly message: string;
  readonly headers: [string, string][];
}

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2 item 5.4). */
export function acceptKey(key: string): string {
  const s = key + GUID;
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return base64(sha1(b));
}

/** True when a comma-separated field value contains `token` (case-insensitive). */
export function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const part of value.split(",")) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/** True when the request asks for a WebSocket (an `Upgrade: websocket` field), valid or not. */
export function isWebSocketUpgrade(request: UpgradeRequest): boolean {
  return hasToken(request.headers.get("upgrade"), "websocket");
}

/**
 * A `Sec-WebSocket-Key` is the base64 of 16 bytes (§4.1 item 7): 22
 * characters then `==`, the last character carrying 2 data bits and 4 zero
 * bits (RFC 4648 §3.5 canonical encoding).
 */
function validKey(key: string | null): key is string {
  if (key === null) return false;
  key = key.trim();
  if (key.length !== 24 || key[22] !== "=" || key[23] !== "=") return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return "AQgw".includes(key[21]);
}

function refuse(status: 400 | 426, message: string): HandshakeRefused {
  const headers: [string, string][] = status === 426
    ? [["Sec-WebSocket-Version", "13"], ["Upgrade", "websocket"], ["Connection", "Upgrade"]]
    : [];
  return { ok: false, status, message, headers };
}

/**
 * Validates an upgrade request and computes the answer. `httpVersion` is the
 * request line's version (`"1.1"`); the handshake needs HTTP/1.1 or later.
 */
export function acceptUpgrade(
  request: UpgradeRequest,
  options: HandshakeOptions = {},
  httpVersion = "1.1",
): HandshakeAccepted | HandshakeRefused {
  if (request.method !== "GET") return refuse(400, "WebSocket upgrade needs GET");
  if (httpVersion !== "1.1" && !(Number(httpVersion) > 1.1)) return refuse(400, "WebSocket upgrade needs HTTP/1.1");
  const h = request.headers;
  if (!hasToken(h.get("upgrade"), "websocket")) return refuse(400, "Upgrade: websocket missing");
  if (!hasToken(h.get("connection"), "upgrade")) return refuse(400, "Connection: Upgrade missing");
  const version = h.get("sec-websocket-version");
  if (version === null || version.trim() !== "13") return refuse(426, "Sec-WebSocket-Version must be 13");
  const key = h.get("sec-websocket-key");
  if (!validKey(key)) return refuse(400, "Sec-WebSocket-Key must be the base64 of 16 bytes");

  const headers: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", acceptKey(key.trim())],
  ];
  const protocol = selectProtocol(h.get("sec-websocket-protocol"), options.protocols);
  if (protocol !== "") headers.push(["Sec-WebSocket-Protocol", protocol]);
  let deflate: DeflateParams | null = null;
  let extensions = "";
  const pmd = options.perMessageDeflate;
  if (pmd) {
    const offer = h.get("sec-websocket-extensions");
    if (offer !== null) {
      const agreed = negotiateDeflate(offer, pmd === true ? {} : pmd);
      if (agreed !== null) {
        deflate = agreed.params;
        extensions = agreed.header;
        headers.push(["Sec-WebSocket-Extensions", extensions]);
      }
    }
  }
  return { ok: true, headers, protocol, extensions, deflate };
}

/** The protocol to echo, or `""`: always one the client offered (§4.2.2 item 5.4). */
export function selectProtocol(
  field: string | null,
  choose: HandshakeOptions["protocols"],
): string {
  if (field === null || choose === undefined) return "";
  const offered = field.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (offered.length === 0) return "";
  if (typeof choose === "function") {
    const pick = choose(offered);
    return pick && offered.includes(pick) ? pick : "";
  }
  for (const p of choose) if (offered.includes(p)) return p;
  return "";
}

/** One extension of a `Sec-WebSocket-Extensions` field: its name and parameters (value null when absent). */
export interface ExtensionOffer {
  name: string;
  params: [string, string | null][];
}

/**
 * Parses a `Sec-WebSocket-Extensions` field (RFC 6455 §9.1): extensions
 * separated by commas, parameters by semicolons, values tokens or quoted
 * strings. Returns null when the field is malformed.
 */
export function parseExtensions(field: string): ExtensionOffer[] | null {
  const out: ExtensionOffer[] = [];
  let i = 0;
  const n = field.length;
  const ws = () => {
    while (i < n && (field[i] === " " || field[i] === "\t")) i++;
  };
  const token = (): string => {
    const s = i;
    while (i < n && !' \t,;="'.includes(field[i])) i++;
    return field.slice(s, i);
  };
  while (i < n) {
    ws();
    if (i < n && field[i] === ",") {
      i++;
      continue;
    }
    if (i >= n) break;
    const name = token().toLowerCase();
    if (name === "") return null;
    const ext: ExtensionOffer = { name, params: [] };
    ws();
    while (i < n && field[i] === ";") {
      i++;
      ws();
      const key = token().toLowerCase();
      if (key === "") return null;
      ws();
      let value: string | null = null;
      if (i < n && field[i] === "=") {
        i++;
        ws();
        if (field[i] === '"') {
          i++;
          let v = "";
          while (i < n && field[i] !== '"') {
            if (field[i] === "\\") i++;
            v += field[i++] ?? "";
          }
          if (i >= n) return null;
          i++;
          value = v;
        } else {
          value = token();
          if (value === "") return null;
        }
        ws();
      }
      ext.params.push([key, value]);
    }
    if (i < n && field[i] !== ",") return null;
    out.push(ext);
  }
  return out;
}

/**
 * The smallest window the server compresses with: zlib's raw deflate cannot
 * use 8 (Node's zlib documentation: windowBits 8 becomes 9 for raw streams),
 * so an offer that demands 8 from the server is declined.
 */
const MIN_SERVER_WINDOW_BITS = 9;

function windowBits(v: string | null): number {
  if (v === null || !/^[0-9]{1,2}$/.test(v)) return -1;
  const n = Number(v);
  return n >= 8 && n <= 15 ? n : -1;
}

/**
 * Accepts the first permessage-deflate offer whose parameters are valid and
 * satisfiable (RFC 7692 §5.1, §7.1); null when there is none.
 */
export function negotiateDeflate(
  field: string,
  options: DeflateOptions = {},
): { params: DeflateParams; header: string } | null {
  const offers = parseExtensions(field);
  if (offers === null) return null;
  const ownServerBits = Math.max(MIN_SERVER_WINDOW_BITS, Math.min(15, options.serverMaxWindowBits ?? 15));
  const ownClientBits = Math.max(8, Math.min(15, options.clientMaxWindowBits ?? 15));
  next: for (const offer of offers) {
    if (offer.name !== "permessage-deflate") continue;
    const seen = new Set<string>();
    let serverNoCtx = false, clientNoCtx = false;
    let serverBits = 15, serverBitsOffered = false;
    let clientBits = -1; // -1: not offered, 0: offered without a value
    for (const [k, v] of offer.params) {
      if (seen.has(k)) continue next; // §7: a parameter given twice declines the offer
      seen.add(k);
      switch (k) {
        case "server_no_context_takeover":
          if (v !== null) continue next;
          serverNoCtx = true;
          break;
        case "client_no_context_takeover":
          if (v !== null) continue next;
          clientNoCtx = true;
          break;
        case "server_max_window_bits":
          serverBits = windowBits(v);
          if (serverBits < 0) continue next;
          serverBitsOffered = true;
          break;
        case "client_max_window_bits":
          if (v === null) clientBits = 0;
          else {
            clientBits = windowBits(v);
            if (clientBits < 0) continue next;
          }
          break;
        default:
          continue next; // unknown parameter (§7)
      }
    }
    if (serverBits < MIN_SERVER_WINDOW_BITS) continue;
    const params: DeflateParams = {
      serverNoContextTakeover: serverNoCtx || options.serverNoContextTakeover === true,
      clientNoContextTakeover: clientNoCtx || options.clientNoContextTakeover === true,
      serverMaxWindowBits: Math.min(serverBits, ownServerBits),
      clientMaxWindowBits: 15,
    };
    let header = "permessage-deflate";
    if (params.serverNoContextTakeover) header += "; server_no_context_takeover";
    if (params.clientNoContextTakeover) header += "; client_no_context_takeover";
    if (serverBitsOffered || params.serverMaxWindowBits < 15) {
      header += `; server_max_window_bits=${params.serverMaxWindowBits}`;
    }
    if (clientBits >= 0) {
      // The client said it can be told a window (§7.1.2.2): tell it ours when smaller.
      const limit = Math.min(clientBits === 0 ? 15 : clientBits, ownClientBits);
      params.clientMaxWindowBits = limit;
      if (limit < 15 || clientBits > 0) header += `; client_max_window_bits=${limit}`;
    }
    return { params, header };
  }
  return null;
}

/** The error response for a refused handshake. */
export function refusalResponse(refused: HandshakeRefused): Response {
  return new Response(refused.message, {
    status: refused.status,
    headers: [["Content-Type", "text/plain; charset=utf-8"], ...refused.headers],
  });
}
