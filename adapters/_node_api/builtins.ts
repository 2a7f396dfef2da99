/**
 * The `node:*` modules the adapters use, loaded on first use instead of at
 * import. A plain HTTP server needs none of them on Bun and Deno, and only
 * `node:net` on Node, but importing them costs memory for the life of the
 * process: `node:net`, `node:tls`, `node:zlib`, `node:cluster`,
 * `node:child_process` and `node:fs` together add about 9 MiB of RSS on
 * Bun 1.4 and 10 MiB on Deno 2.9 (their Node compatibility layers), and
 * `node:tls`, `node:zlib`, `node:cluster` and `node:child_process` about
 * 11 MiB on Node 24 (measured by importing each into an empty script).
 * `process.getBuiltinModule` (Node ≥ 22.3, Bun, Deno 2) loads one
 * synchronously, where it is needed.
 *
 * Adapter private, like everything in `adapters/_node_api/`.
 *
 * @module
 */

import type * as Net from "node:net";
import type * as Tls from "node:tls";
import type * as Zlib from "node:zlib";
import type * as Fs from "node:fs";
import type * as ChildProcess from "node:child_process";
import type { Cluster } from "node:cluster";

let net_: typeof Net | undefined;
let tls_: typeof Tls | undefined;
let zlib_: typeof Zlib | undefined;
let fs_: typeof Fs | undefined;
let childProcess_: typeof ChildProcess | undefined;
let cluster_: Cluster | undefined;

/** `node:net`. */
export const net = (): typeof Net => (net_ ??= process.getBuiltinModule("node:net"));
/** `node:tls`. */
export const tls = (): typeof Tls => (tls_ ??= process.getBuiltinModule("node:tls"));
/** `node:zlib`. */
export const zlib = (): typeof Zlib => (zlib_ ??= process.getBuiltinModule("node:zlib"));
/** `node:fs`. */
export const fs = (): typeof Fs => (fs_ ??= process.getBuiltinModule("node:fs"));
/** `node:child_process`. */
export const childProcess = (): typeof ChildProcess => (childProcess_ ??= process.getBuiltinModule("node:child_process"));
/** `node:cluster` (its default export: the cluster object). */
export const cluster = (): Cluster => (cluster_ ??= process.getBuiltinModule("node:cluster") as unknown as Cluster);
