/**
 * Unix-socket files for the runtimes with `node:net` and `node:fs` (Node,
 * Bun): telling a stale socket file from a live one, and setting the file
 * mode. Adapter private: only `adapters/node/` and `adapters/bun/` import it.
 *
 * @module
 */

import type * as Fs from "node:fs";
import { fs, net } from "./builtins.ts";
import type { UnixListen } from "../../src/socket.ts";

/**
 * Whether a server accepts on the socket file at `path`: a connect that
 * succeeds says yes; one refused (ECONNREFUSED: the file is left over from a
 * process that died) says no.
 */
export function unixSocketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net().connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/**
 * Before binding `unix.path`: nothing to do when no file is there. A live
 * socket there is an error; a stale one is removed with `removeStale`, and an
 * error naming the option otherwise. A file that is not a socket is never
 * removed.
 */
export async function prepareUnixPath(unix: UnixListen): Promise<void> {
  let stat: Fs.Stats;
  try {
    stat = fs().lstatSync(unix.path);
  } catch {
    return; // nothing there
  }
  if (!stat.isSocket()) throw new Error(`Cannot listen on unix socket ${unix.path}: a file that is not a socket is there`);
  if (await unixSocketAlive(unix.path)) throw new Error(`Cannot listen on unix socket ${unix.path}: another server is accepting on it`);
  if (!unix.removeStale) {
    throw new Error(`Cannot listen on unix socket ${unix.path}: a stale socket file is there (no one accepts on it); remove it, or pass unix: { path, removeStale: true }`);
  }
  fs().unlinkSync(unix.path);
}

/** After binding: the socket file's mode, when asked for. */
export function applyUnixMode(unix: UnixListen): void {
  if (unix.mode !== undefined) fs().chmodSync(unix.path, unix.mode);
}
