import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF synchronizer tokens (OWASP "synchronizer token pattern"): a per-session secret lives in
 * the session, and every page gets a token derived from it. The token is masked with fresh
 * randomness on every call so that a compressed response never contains the same secret-derived
 * bytes twice (BREACH), while any token ever handed out for the current secret keeps verifying.
 */

/** Request header a client sends the token in (SPEC §11.6). */
export const DEFAULT_CSRF_HEADER = 'x-csrf-token';
/** Form field a urlencoded/multipart form sends the token in (SPEC §11.6). */
export const DEFAULT_CSRF_FORM_FIELD = '_csrf';
/** Methods that must carry a token; GET/HEAD/OPTIONS/TRACE are expected to be side-effect free. */
export const CSRF_UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const SECRET_BYTES = 32;
/** Unpadded base64url length of a 32-byte secret. */
const SECRET_LENGTH = 43;
/** Unpadded base64url length of a token: 32-byte mask followed by the 32 masked secret bytes. */
const TOKEN_LENGTH = 86;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A new per-session CSRF secret: 32 random bytes, unpadded base64url (43 characters). */
export function createCsrfSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/**
 * A fresh token for `secret`: base64url(mask || mask XOR secret) with a new random 32-byte mask
 * per call, so two calls never return the same string but both verify against `secret`.
 *
 * @throws TypeError when `secret` is not a value returned by `createCsrfSecret` — the secret
 *   comes from our own session, never from the client, so this is a programming error.
 */
export function maskCsrfToken(secret: string): string {
  const secretBytes = decodeCanonical(secret, SECRET_LENGTH);
  if (secretBytes === null) throw new TypeError('maskCsrfToken: secret is not a value from createCsrfSecret()');
  const token = Buffer.alloc(SECRET_BYTES * 2);
  randomBytes(SECRET_BYTES).copy(token, 0);
  for (let i = 0; i < SECRET_BYTES; i++) token[SECRET_BYTES + i] = token[i]! ^ secretBytes[i]!;
  return token.toString('base64url');
}

/**
 * Whether `token` was produced by `maskCsrfToken(secret)`. Returns false (never throws) for a
 * missing or malformed secret, a non-string token, a token of the wrong length, anything that
 * is not canonical unpadded base64url, and a token of another secret.
 */
export function verifyCsrfToken(secret: string | undefined, token: unknown): boolean {
  if (typeof secret !== 'string' || typeof token !== 'string') return false;
  const secretBytes = decodeCanonical(secret, SECRET_LENGTH);
  // Everything up to here depends only on the token's shape (public), never on the secret's
  // bytes, so rejecting early leaks nothing an attacker does not already know.
  const tokenBytes = decodeCanonical(token, TOKEN_LENGTH);
  if (secretBytes === null || tokenBytes === null) return false;
  const unmasked = Buffer.alloc(SECRET_BYTES);
  for (let i = 0; i < SECRET_BYTES; i++) unmasked[i] = tokenBytes[i]! ^ tokenBytes[SECRET_BYTES + i]!;
  return timingSafeEqual(unmasked, secretBytes);
}

/**
 * Decodes unpadded base64url of an exact length, or null. Node's decoder silently skips invalid
 * characters and ignores the unused low bits of the last character; requiring the re-encoding
 * to match the input makes every accepted byte string have exactly one spelling, so changing
 * any character of a token always invalidates it.
 */
function decodeCanonical(text: string, length: number): Buffer | null {
  if (text.length !== length || !BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}
