/**
 * The protocol seam of the connection layer, as the WebSocket code uses it:
 * after a 101, the connection hands its socket to a {@linkcode Protocol}
 * along with the bytes that followed the upgrade head in the same read.
 *
 * Local copy of the interface being added to `src/connection/`; replace the
 * definitions with a re-export once that lands.
 *
 * @module
 */

import type { Socket } from "../socket.ts";

export type { Socket };

/** Socket events, delivered to the protocol once it has the socket. */
export interface ProtocolEvents {
  /** Bytes arrived; ownership of the memory passes to the protocol. */
  data(bytes: Uint8Array): void;
  /** Everything written has left the process after `write()` returned false. */
  drain(): void;
  /** The peer half-closed (TCP FIN). */
  end(): void;
  /** The socket is fully closed; no event follows. */
  close(): void;
  /** Called by the server's sweep about once a second (`performance.now()` ms). */
  sweep?(now: number): void;
  /** The server is shutting down. */
  shutdown?(): void;
}

/** Takes over a socket after an upgrade. */
export interface Protocol {
  attach(socket: Socket, buffered: Uint8Array): ProtocolEvents;
}
