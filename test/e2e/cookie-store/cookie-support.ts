/** Helpers to look inside CookieStore cookies: `sid=<base64url(record)>.<hmac>`. */
import { createHmac } from 'node:crypto';
import { cookieValue } from '../../support/session-app.js';

/** The base64url data part of a `sid=<data>.<sig>` pair. */
export function dataPart(pair: string): string {
  const value = cookieValue(pair)!;
  return value.slice(0, value.lastIndexOf('.'));
}

/** The bytes the CookieStore put in the cookie (encrypted record, or the plain record). */
export function cookieBytes(pair: string): Buffer {
  return Buffer.from(dataPart(pair), 'base64url');
}

/** A record envelope: [1 byte version][created f64 BE][accessed f64 BE][serializer bytes]. */
export function decodeEnvelope(bytes: Uint8Array): { version: number; created: number; accessed: number; json: string } {
  const buf = Buffer.from(bytes);
  return { version: buf[0]!, created: buf.readDoubleBE(1), accessed: buf.readDoubleBE(9), json: buf.subarray(17).toString('utf8') };
}

export function encodeEnvelope(created: number, accessed: number, json: string): Buffer {
  const header = Buffer.alloc(17);
  header[0] = 1;
  header.writeDoubleBE(created, 1);
  header.writeDoubleBE(accessed, 9);
  return Buffer.concat([header, Buffer.from(json, 'utf8')]);
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
