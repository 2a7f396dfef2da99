/**
 * The permessage-deflate codec seam (RFC 7692): the core frames and
 * negotiates, an adapter compresses. A runtime's zlib fills it
 * (`adapters/_node_api/ws_deflate.ts` uses `node:zlib`, which Node, Deno and
 * Bun all have); the core never imports one.
 *
 * @module
 */

import type { DeflateParams } from "./handshake.ts";

/** One connection's compressor and decompressor. */
export interface DeflateCodec {
  /**
   * Compresses a message, or with `fin` false a part of one. With `fin`, the
   * output ends at a byte boundary with the `00 00 ff ff` tail of the sync
   * flush removed (RFC 7692 §7.2.1). The returned memory belongs to the
   * caller. Context is kept between messages unless the parameters say
   * `server_no_context_takeover`.
   */
  deflate(data: Uint8Array, fin: boolean): Uint8Array;
  /**
   * Decompresses a message's payload (the codec adds the `00 00 ff ff`
   * tail, §7.2.2), or with `fin` false a part of one (the output may then be
   * empty until `fin`). Returns null, keeping no output, when the message
   * would inflate to more than `limit` bytes: the caller fails the
   * connection with 1009. Throws on data that is not valid DEFLATE.
   */
  inflate(data: Uint8Array, fin: boolean, limit: number): Uint8Array | null;
  /** Forgets the compression context (both directions). */
  reset?(): void;
  /** Releases what the codec holds; no call follows. */
  close(): void;
}

/** Creates the codec for a connection once its parameters are agreed. */
export type DeflateCodecFactory = (params: DeflateParams) => DeflateCodec;
