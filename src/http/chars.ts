/**
 * Byte constants and 256-entry lookup tables for the HTTP/1.1 grammar,
 * built once at module load from the sets the RFCs name. The parser's hot
 * loops read `TOKEN[b] === 0` instead of chains of comparisons.
 *
 * @module
 */

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const COMMA = 0x2c;
export const EQUALS = 0x3d;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const SLASH = 0x2f;
export const ASTERISK = 0x2a;
export const DEL = 0x7f;

function table(accept: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isAlpha = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
/** RFC 5234 B.1: VCHAR = %x21-7E */
const isVchar = (b: number) => b >= 0x21 && b <= 0x7e;
/** RFC 9110 §5.5: obs-text = %x80-FF */
const isObsText = (b: number) => b >= 0x80;

/**
 * RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 */
export const TOKEN: Uint8Array = table((b) =>
  isDigit(b) || isAlpha(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b))
);

/**
 * RFC 9110 §5.5: field-value = *field-content, field-vchar = VCHAR / obs-text,
 * with SP and HTAB allowed between them. CR, LF, NUL and other controls are
 * never part of a value.
 */
export const FIELD_VALUE: Uint8Array = table((b) =>
  isVchar(b) || isObsText(b) || b === SP || b === HTAB
);

/**
 * Bytes allowed in a request-target (RFC 9112 §3.2, RFC 3986 §2): visible
 * US-ASCII only. Controls, SP, DEL and non-ASCII bytes end or break the
 * request line and are rejected. `#` is not part of any request-target form
 * (a fragment is never sent), so it is rejected too.
 */
export const TARGET: Uint8Array = table((b) => isVchar(b) && b !== 0x23 /* # */);

/**
 * {@linkcode TARGET} with a mark (2) on the bytes after which the URL a
 * `Request` would show may differ from the raw target: characters the URL
 * standard percent-encodes or rewrites (`"` `<` `>` `` ` `` `{` `}` `\`
 * `'`) and the start of a possible dot segment (`.`, `%` for `%2e`).
 * Plain bytes are 1, invalid ones 0.
 */
export const TARGET_CLASS: Uint8Array = table((b) => isVchar(b) && b !== 0x23);
for (const c of "\"<>`{}\\'.%") TARGET_CLASS[c.charCodeAt(0)] = 2;

/**
 * Bytes allowed in a Host field value (RFC 9110 §7.2, RFC 3986 §3.2.2):
 * reg-name (unreserved, pct-encoded, sub-delims), IP-literal brackets and
 * the ":" before a port.
 */
export const HOST: Uint8Array = table((b) =>
  isDigit(b) || isAlpha(b) || "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(b))
);

/**
 * reg-name and IPv4address bytes (RFC 3986 §3.2.2): unreserved / sub-delims,
 * plus "%" (pct-encoded, whose two hex digits are checked by the caller).
 */
export const REG_NAME: Uint8Array = table((b) =>
  isDigit(b) || isAlpha(b) || "-._~!$&'()*+,;=".includes(String.fromCharCode(b))
);

/**
 * Bytes inside an IP-literal's brackets (RFC 3986 §3.2.2): IPv6address
 * (hex digits, ":" and "." for an embedded IPv4) and IPvFuture
 * ("v" HEXDIG "." unreserved / sub-delims / ":"), which together cover these.
 */
export const IP_LITERAL: Uint8Array = table((b) =>
  isDigit(b) || isAlpha(b) || "-._~!$&'()*+,;=:".includes(String.fromCharCode(b))
);

/** Hexadecimal digit values, -1 for any other byte (chunk-size, RFC 9112 §7.1). */
export const HEX: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/** ASCII lower-casing map: `LOWER[b]` is `b` with A-Z folded to a-z. */
export const LOWER: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  return t;
})();

/** A string whose code units are all below 256, one byte each. */
export function latin1Bytes(s: string): Uint8Array {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/**
 * Decodes bytes as ISO-8859-1 (each byte one UTF-16 code unit), which is how
 * the Fetch standard turns header bytes into a ByteString.
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  // Short slices are the common case (methods, hosts, small targets); one
  // native call over a view beats a TextDecoder round trip for them.
  if (n < 2048) {
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  let s = "";
  for (let i = start; i < end; i += 2048) {
    s += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(end, i + 2048)) as unknown as number[],
    );
  }
  return s;
}

/**
 * True when `buf[start..end)` equals the lower-case ASCII `lower`, ignoring
 * ASCII case in `buf`.
 */
export function equalsLower(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]] !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * True when every character of `s` is a reason-phrase byte (RFC 9112 §4:
 * HTAB / SP / VCHAR / obs-text). Anything else (CR, LF, NUL, other
 * controls, DEL, or a character above 0xFF, whose low byte alone would be
 * written) could end the status line early.
 */
export function isReasonPhrase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}

/** {@linkcode fieldNameKind}: not a token; it must not be written. */
export const NAME_INVALID = 0;
/** {@linkcode fieldNameKind}: a token in lower case, as `Headers` gives it. */
export const NAME_LOWER = 1;
/** {@linkcode fieldNameKind}: a token with upper-case letters (a duck-typed `Headers`). */
export const NAME_MIXED = 2;

/** Classifies a response field name: a non-empty token (RFC 9110 §5.1), lower case or not. */
export function fieldNameKind(s: string): number {
  const n = s.length;
  if (n === 0) return NAME_INVALID;
  let kind = NAME_LOWER;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return NAME_INVALID;
    if (c >= 0x41 && c <= 0x5a) kind = NAME_MIXED;
  }
  return kind;
}

/**
 * True when `s` is a field value that may be written as it is (RFC 9110
 * §5.5 field-content: VCHAR / obs-text with SP and HTAB; no CR, LF, NUL or
 * other controls, and no character above 0xFF).
 */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}
