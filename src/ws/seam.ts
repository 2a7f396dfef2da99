/**
 * The protocol seam of the connection layer, as the WebSocket code uses it:
 * after a 101, the connection hands its socket to a {@linkcode Protocol}
 * along with the bytes that followed the upgrade head in the same read.
 * The definitions live in `src/connection/protocol.ts`.
 *
 * @module
 */

export type { Protocol, ProtocolEvents } from "../connection/protocol.ts";
export type { Socket } from "../socket.ts";
