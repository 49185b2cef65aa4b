/**
 * Helpers to look inside CookieStore cookies (`sid=<data>.<hmac>`) without depending on the
 * record layout: the store's own public `read`/`encodeSync` unwrap and wrap the data part, and
 * `readSessionData` (src/testing) decodes the record as the module does.
 */
import { createHmac } from 'node:crypto';
import { CookieStore, type Encryptor, type SessionData } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { cookieValue } from '../../support/session-app.js';

/** The base64url data part of a `sid=<data>.<sig>` pair. */
export function dataPart(pair: string): string {
  const value = cookieValue(pair)!;
  return value.slice(0, value.lastIndexOf('.'));
}

/** The raw bytes of the cookie's data part (whatever the CookieStore's own framing is). */
export function cookieBytes(pair: string): Buffer {
  return Buffer.from(dataPart(pair), 'base64url');
}

/** The session data a cookie carries, decoded as the module would (null: nothing decodable). */
export function cookieSession(pair: string, encryptor?: Encryptor): Promise<SessionData | null> {
  return readSessionData(new CookieStore(), dataPart(pair), encryptor ? { encryptor } : {});
}

/** A cookie data part as the CookieStore encodes `record` with `ttl` seconds to live. */
export function encodeForCookie(record: Uint8Array, ttl = 3600): string {
  return new CookieStore().encodeSync('', record, ttl, ttl);
}

/** Signs a cookie value as the module does: `<value>.<base64url HMAC-SHA256(secret, value)>`. */
export function sign(value: string, secret: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64url')}`;
}

/** Replaces the character at `index` with a different base64url character. */
export function flipChar(text: string, index: number): string {
  const c = text[index]!;
  return text.slice(0, index) + (c === 'A' ? 'B' : 'A') + text.slice(index + 1);
}

/** The Max-Age attribute of a Set-Cookie line, if any. */
export function maxAgeOf(line: string | undefined): number | undefined {
  const m = line?.match(/;\s*Max-Age=(\d+)/i);
  return m ? Number(m[1]) : undefined;
}
