/**
 * WebSocket server core (RFC 6455, RFC 7692): handshake, framing, the
 * session the connection hands its socket to, and the deflate codec seam.
 * {@linkcode prepareUpgrade} ties them together for the APIs built on top.
 *
 * @module
 */

import { acceptUpgrade, refusalResponse } from "./handshake.ts";
import type { DeflateOptions, HandshakeOptions, HandshakeRefused, UpgradeRequest } from "./handshake.ts";
import { WebSocketSession } from "./session.ts";
import type { WebSocketHandler, WebSocketOptions } from "./session.ts";

export type { DeflateCodec, DeflateCodecFactory } from "./codec.ts";
export {
  acceptKey,
  acceptUpgrade,
  isWebSocketUpgrade,
  negotiateDeflate,
  refusalResponse,
  selectProtocol,
} from "./handshake.ts";
export type {
  DeflateOptions,
  DeflateParams,
  HandshakeAccepted,
  HandshakeOptions,
  HandshakeRefused,
  UpgradeRequest,
} from "./handshake.ts";
export type { Protocol, ProtocolEvents } from "./seam.ts";
export {
  CLOSED,
  CLOSING,
  CONNECTING,
  DEFAULT_BACKPRESSURE_LIMIT,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_COMPRESS_THRESHOLD,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  OPEN,
  WebSocketSession,
} from "./session.ts";
export type { Negotiated, WebSocketHandler, WebSocketOptions } from "./session.ts";

/** Session settings plus what the handshake negotiates. */
export interface WebSocketServerOptions extends WebSocketOptions {
  /** Subprotocols the server speaks (see {@linkcode HandshakeOptions.protocols}). */
  protocols?: HandshakeOptions["protocols"];
  /**
   * permessage-deflate: off by default (as in Bun and `ws`); takes effect
   * only with a codec factory in `deflate`.
   */
  perMessageDeflate?: boolean | DeflateOptions;
}

/** A validated upgrade: the session to hand the socket to and the 101's fields, or the error response. */
export type PreparedUpgrade<T> =
  | { readonly ok: true; readonly session: WebSocketSession<T>; readonly headers: [string, string][] }
  | { readonly ok: false; readonly response: Response; readonly refused: HandshakeRefused };

/**
 * Validates the handshake and creates the session (CONNECTING until the
 * connection calls its `attach`). On failure, `response` is the RFC's
 * answer: 426 with `Sec-WebSocket-Version: 13`, or 400.
 */
export function prepareUpgrade<T>(
  request: UpgradeRequest,
  handler: WebSocketHandler<T>,
  data: T,
  options: WebSocketServerOptions = {},
  httpVersion = "1.1",
): PreparedUpgrade<T> {
  const hs = acceptUpgrade(
    request,
    { protocols: options.protocols, perMessageDeflate: options.deflate ? options.perMessageDeflate : false },
    httpVersion,
  );
  if (!hs.ok) return { ok: false, response: refusalResponse(hs), refused: hs };
  return { ok: true, session: new WebSocketSession(handler, data, hs, options), headers: hs.headers };
}
