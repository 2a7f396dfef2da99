/**
 * TLS settings as the core knows them: what `serve({ tls })` accepts, its
 * validation into the one shape every adapter reads, and what a TLS socket
 * reports about its handshake. Runtime-free: the handshake itself is the
 * runtime's (`node:tls`, `Deno.listenTls`, `Bun.listen({ tls })`).
 *
 * @module
 */

/** PEM text, as a string or its bytes (read from a file). */
export type PemInput = string | Uint8Array;

/** One certificate (with its key) the server can present; `serve({ tls })` takes one or a list. */
export interface TlsOptions {
  /** The certificate chain, PEM (leaf first). */
  cert: PemInput;
  /** The private key, PEM. */
  key: PemInput;
  /**
   * Host name this certificate is for (SNI). In a list, the entry whose
   * `serverName` matches the client's SNI is used (`*.example.com` matches
   * one label); the first entry is the default for clients that send none or
   * an unknown one. Ignored with a single certificate.
   */
  serverName?: string;
  /** Passphrase of an encrypted `key`. Not on Deno (Deno.listenTls takes plain keys only). */
  passphrase?: string;
  /** CA certificates (PEM) that client certificates must chain to (mutual TLS). First entry only. */
  ca?: PemInput | readonly PemInput[];
  /** Ask clients for a certificate (mutual TLS). Not on Deno. First entry only. @default false */
  requestCert?: boolean;
  /** With `requestCert`: refuse the handshake when the client's certificate is missing or not valid. First entry only. @default true */
  rejectUnauthorized?: boolean;
}

/** One certificate, validated, PEM as text. */
export interface TlsCertificate {
  readonly serverName: string | undefined;
  readonly cert: string;
  readonly key: string;
  readonly passphrase: string | undefined;
}

/** `serve({ tls })` resolved: what a transport's `listen` and `setTls` read. */
export interface TlsSettings {
  /** At least one; `[0]` is the default certificate. */
  readonly certificates: readonly TlsCertificate[];
  /** CA certificates for client certificates, PEM text; empty when none were given. */
  readonly ca: readonly string[];
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  /** ALPN protocols offered, preferred first. */
  readonly alpnProtocols: readonly string[];
}

/**
 * The ALPN protocols the server offers. The core speaks HTTP/1.1 only; `h2`
 * goes in front of it here once it speaks HTTP/2.
 */
export const ALPN_PROTOCOLS: readonly string[] = ["http/1.1"];

/** A peer certificate, as far as the runtime reports it. */
export interface PeerCertificate {
  /** Subject distinguished name, `"CN=client, O=Acme"`. */
  readonly subject: string;
  /** Issuer distinguished name. */
  readonly issuer: string;
  /** SHA-256 fingerprint, `AB:CD:...`, when the runtime reports it. */
  readonly fingerprint256?: string;
  /** End of validity, as the runtime formats it, when reported. */
  readonly validTo?: string;
  /** Serial number (hex), when reported. */
  readonly serialNumber?: string;
}

/** What a TLS connection's handshake agreed on; see `ConnInfo.tls`. */
export interface TlsInfo {
  /** `"TLSv1.3"`, ...; null when the runtime does not say (Deno). */
  readonly protocol: string | null;
  /** The ALPN protocol agreed (`"http/1.1"`), or null when the client offered none. */
  readonly alpnProtocol: string | null;
  /** The SNI name the client asked for; null when it sent none or the runtime does not say (Deno). */
  readonly serverName: string | null;
  /** The client's certificate under `requestCert`; null when none was sent or asked for. */
  readonly peerCertificate: PeerCertificate | null;
  /** Whether the client's certificate verified against `ca` (false without one). */
  readonly authorized: boolean;
}

const decoder = new TextDecoder();

function pem(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  throw new TypeError(`Invalid ${name} "${String(value)}": expected PEM text (a string or its bytes)`);
}

const CERT_KEYS = new Set(["cert", "key", "serverName", "passphrase", "ca", "requestCert", "rejectUnauthorized"]);
const FIRST_ONLY = ["ca", "requestCert", "rejectUnauthorized"] as const;

/**
 * Checks `serve({ tls })` and turns it into {@linkcode TlsSettings}.
 * @throws {TypeError} naming the field that is missing, unknown or of the wrong type
 */
export function resolveTls(value: unknown): TlsSettings {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new TypeError("Invalid tls []: give at least one { cert, key }");
  const certificates: TlsCertificate[] = [];
  list.forEach((entry: unknown, i: number) => {
    const where = Array.isArray(value) ? `tls[${i}]` : "tls";
    if (entry === null || typeof entry !== "object") throw new TypeError(`Invalid ${where} "${String(entry)}": expected { cert, key }`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!CERT_KEYS.has(k)) throw new TypeError(`Unknown option ${where}.${k}: TLS takes ${[...CERT_KEYS].join(", ")}`);
    }
    if (e.cert === undefined || e.key === undefined) throw new TypeError(`Invalid ${where}: both cert and key are required`);
    if (i > 0) {
      for (const k of FIRST_ONLY) {
        if (e[k] !== undefined) throw new TypeError(`Invalid ${where}.${k}: ${k} is a server-wide setting; set it on tls[0] only`);
      }
    }
    if (e.serverName !== undefined && (typeof e.serverName !== "string" || e.serverName === "")) {
      throw new TypeError(`Invalid ${where}.serverName "${String(e.serverName)}": expected a host name`);
    }
    if (e.passphrase !== undefined && typeof e.passphrase !== "string") throw new TypeError(`Invalid ${where}.passphrase: expected a string`);
    certificates.push({
      serverName: typeof e.serverName === "string" ? e.serverName.toLowerCase() : undefined,
      cert: pem(`${where}.cert`, e.cert),
      key: pem(`${where}.key`, e.key),
      passphrase: e.passphrase as string | undefined,
    });
  });
  const first = list[0] as TlsOptions;
  const ca = first.ca === undefined ? [] : (Array.isArray(first.ca) ? first.ca : [first.ca]).map((c: unknown) => pem("tls.ca", c));
  for (const k of ["requestCert", "rejectUnauthorized"] as const) {
    if (first[k] !== undefined && typeof first[k] !== "boolean") throw new TypeError(`Invalid tls.${k} "${String(first[k])}": expected a boolean`);
  }
  return {
    certificates,
    ca,
    requestCert: first.requestCert ?? false,
    rejectUnauthorized: first.rejectUnauthorized ?? true,
    alpnProtocols: ALPN_PROTOCOLS,
  };
}

/** The certificate for an SNI name: exact, then `*.` one-label wildcard, then the default (`[0]`). */
export function certificateFor(settings: TlsSettings, serverName: string | null | undefined): TlsCertificate {
  const list = settings.certificates;
  if (serverName) {
    const name = serverName.toLowerCase();
    for (const c of list) if (c.serverName === name) return c;
    const dot = name.indexOf(".");
    if (dot > 0) {
      const wild = "*" + name.slice(dot);
      for (const c of list) if (c.serverName === wild) return c;
    }
  }
  return list[0];
}

/** A distinguished name as one line: `"CN=client, O=Acme"`, from Node/Bun's newline-separated form. */
export function oneLineName(name: string | undefined): string {
  return name === undefined ? "" : name.split("\n").filter(Boolean).join(", ");
}
