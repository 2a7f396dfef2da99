/**
 * Test certificates, made at test time with the `openssl` command into a
 * fresh temporary directory (never committed keys): a CA, server
 * certificates for `localhost`/127.0.0.1 and for other names, a client
 * certificate, and expired ones. Works on Node, Deno and Bun
 * (`node:child_process`, `node:fs`).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Why certificate tests cannot run here, or false when `openssl` is present. */
export function opensslMissing(): string | false {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return false;
  } catch {
    return "the openssl command is not installed (apt-get install openssl): it makes the test certificates";
  }
}

/** Whether a command runs here (`curl --version`). */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync(cmd, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A certificate and its key, as PEM text, and the files they are in. */
export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** The test PKI. */
export interface TestCerts {
  dir: string;
  ca: Pem;
  /** Server certificate for `localhost` and 127.0.0.1 (CN=localhost). */
  localhost: Pem;
  /** A second server certificate, for `b.test` (CN=b.test). */
  bTest: Pem;
  /** Another `localhost` certificate (CN=localhost-2), to tell a swap apart. */
  localhost2: Pem;
  /** Client certificate, CN=client one, O=Acme. */
  client: Pem;
  /** A client certificate that expired yesterday. */
  expiredClient: Pem;
  /** A `localhost` server certificate that expired yesterday. */
  expiredServer: Pem;
  /** Removes the directory. */
  remove(): void;
}

function run(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Makes the test PKI (a few hundred ms: RSA-2048 keys, as clients everywhere accept them). */
export function makeCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anyserve-tls-"));
  const read = (name: string): Pem => ({
    cert: fs.readFileSync(path.join(dir, `${name}.pem`), "utf8"),
    key: fs.readFileSync(path.join(dir, `${name}.key`), "utf8"),
    certFile: path.join(dir, `${name}.pem`),
    keyFile: path.join(dir, `${name}.key`),
  });
  run(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=anyserve test CA"]);
  const issue = (name: string, subject: string, san: string | null, days: number) => {
    run(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
    const args = ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", String(days)];
    if (san !== null) {
      fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
      args.push("-extfile", `${name}.ext`);
    }
    run(dir, args);
  };
  issue("localhost", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", 2);
  issue("localhost2", "/CN=localhost-2", "DNS:localhost,IP:127.0.0.1", 2);
  issue("btest", "/CN=b.test", "DNS:b.test", 2);
  issue("client", "/CN=client one/O=Acme", null, 2);
  // -days -1: notAfter is a day before now (openssl 3 accepts it).
  issue("expiredclient", "/CN=expired client", null, -1);
  issue("expiredserver", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", -1);
  return {
    dir,
    ca: { ...read("ca") },
    localhost: read("localhost"),
    localhost2: read("localhost2"),
    bTest: read("btest"),
    client: read("client"),
    expiredClient: read("expiredclient"),
    expiredServer: read("expiredserver"),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
