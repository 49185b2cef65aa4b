import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Reads the session cookie of an express-session app, so its users keep their session when the
 * app moves to this module (SPEC §11.3). express-session writes
 * `'s:' + cookieSignature.sign(id, secrets[0])`, i.e. `s:<id>.<base64 HMAC-SHA256(id)>` with the
 * `=` padding stripped, and `cookie.serialize` URL-encodes it (`s%3A…`, `+` → `%2B`, `/` → `%2F`).
 */

const PREFIX = 's:';
const ENCODED_PREFIX = /^s%3a/i;
/** Unpadded standard-base64 length of an HMAC-SHA256 digest. */
const SIGNATURE_LENGTH = 43;
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{43}$/;
/** Browsers drop cookies over 4096 bytes; anything longer was never set by express-session. */
const MAX_VALUE_LENGTH = 4096;

/**
 * The session ID inside an express-session cookie value, or null.
 *
 * `value` is the cookie value as it appears in the Cookie header (URL-encoded, `s%3A…`) or as a
 * cookie parser decoded it (`s:…`); one pair of surrounding double quotes is tolerated, as cookie
 * parsers strip them. The value must carry the `s:` prefix (express-session ignores unsigned
 * values too) and a signature made with one of `secrets`, in any order — the old app signs with
 * its first secret but verifies with all, so rotated-out secrets still have live cookies.
 *
 * Returns null, never throws, for: a non-string value or secret list, a malformed `%` escape, a
 * missing prefix, dot or signature, an empty ID, a signature of another secret, a non-canonical
 * spelling of a valid signature, and values over 4096 characters. Non-string entries of
 * `secrets` are skipped.
 */
export function unsignExpressSessionCookie(value: string, secrets: readonly string[]): string | null {
  if (typeof value !== 'string' || !Array.isArray(secrets) || value.length > MAX_VALUE_LENGTH * 3) return null;
  const decoded = decodeCookieValue(value);
  if (decoded === null || decoded.length > MAX_VALUE_LENGTH || !decoded.startsWith(PREFIX)) return null;
  const signed = decoded.slice(PREFIX.length);
  // IDs may contain dots (custom `genid`); the signature never does, so the last dot splits.
  const dot = signed.lastIndexOf('.');
  if (dot <= 0 || signed.length - dot - 1 !== SIGNATURE_LENGTH) return null;
  const id = signed.slice(0, dot);
  const signature = signed.slice(dot + 1);
  // Checked before the comparison: latin1 keeps only the low byte of each character, so without
  // it 'Ł' (U+0141) would compare equal to 'A'. The check looks at the input's shape only.
  if (!SIGNATURE_PATTERN.test(signature)) return null;
  // Strings, not decoded bytes, are compared: like cookie-signature's unsign this refuses other
  // spellings of a valid MAC, so one ID has exactly one valid cookie per secret.
  const given = Buffer.from(signature, 'latin1');
  let matched = false;
  // Every secret is tried even after a match, so the time taken does not say which one matched.
  for (const secret of secrets) {
    if (typeof secret !== 'string') continue;
    const expected = Buffer.from(createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, ''), 'latin1');
    if (timingSafeEqual(expected, given)) matched = true;
  }
  return matched ? id : null;
}

/**
 * An encoded value never contains a raw `:` (encodeURIComponent escapes it), so the prefix
 * tells the two forms apart: decoding an already-decoded value could alter an ID that contains
 * `%`, and decoding twice would accept double-encoded values express-session never reads.
 */
function decodeCookieValue(value: string): string | null {
  let text = value;
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
  if (!ENCODED_PREFIX.test(text)) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
