import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { BoundedCache } from '../cache/bounded-cache.js';

/** Length of an HMAC-SHA256 digest in unpadded base64url. */
const SIGNATURE_LENGTH = 43;
const CACHE_ENTRIES = 10_000;
/** Characters of cached cookie values: IDs are ~76, cookie-store payloads up to ~4 KB. */
const CACHE_CHARS = 4 * 1024 * 1024;
/** IDs and cookie-store payloads are base64url; anything else was not minted by us. */
const VALUE_PATTERN = /^[A-Za-z0-9_-]+$/;

export type VerifyResult =
  | { readonly ok: true; readonly id: string; /** Index of the secret that verified it; > 0 means re-issue. */ readonly secretIndex: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Signs cookie values as `<value>.<base64url HMAC-SHA256>`. The first secret signs; every secret
 * verifies, so secrets can be rotated without logging anybody out.
 */
export class CookieSigner {
  private readonly keys: readonly KeyObject[];
  // A returning client sends the same cookie on every request: its HMAC is computed once, not
  // per request (and once more to re-sign it). Only verified values are kept, keyed by the whole
  // signed value, so nothing unsigned can be looked up into a result.
  private readonly verified = new BoundedCache<VerifyResult & { ok: true }>(CACHE_ENTRIES, CACHE_CHARS, (result) => result.id.length);
  private readonly signed = new BoundedCache<string>(CACHE_ENTRIES, CACHE_CHARS, (signed) => signed.length);

  constructor(
    secrets: readonly string[],
    private readonly maxValueLength: number,
  ) {
    // Key objects are built once; createHmac reuses them on every request.
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  sign(value: string): string {
    const cached = this.signed.get(value);
    if (cached !== undefined) return cached;
    const signed = `${value}.${this.mac(this.keys[0], value)}`;
    this.signed.set(value, signed);
    return signed;
  }

  verify(cookieValue: string): VerifyResult {
    const cached = this.verified.get(cookieValue);
    if (cached !== undefined) return cached;
    const result = this.check(cookieValue);
    if (result.ok) {
      this.verified.set(cookieValue, result);
      if (result.secretIndex === 0) this.signed.set(result.id, cookieValue);
    }
    return result;
  }

  private check(cookieValue: string): VerifyResult {
    if (cookieValue.length > this.maxValueLength + 1 + SIGNATURE_LENGTH) {
      return { ok: false, reason: 'cookie value too long' };
    }
    const dot = cookieValue.lastIndexOf('.');
    if (dot <= 0 || cookieValue.length - dot - 1 !== SIGNATURE_LENGTH) {
      return { ok: false, reason: 'malformed cookie value' };
    }
    const value = cookieValue.slice(0, dot);
    const signature = cookieValue.slice(dot + 1);
    if (!VALUE_PATTERN.test(value) || !VALUE_PATTERN.test(signature)) {
      return { ok: false, reason: 'malformed cookie value' };
    }
    // Comparing the canonical base64url strings (not decoded bytes) rejects non-canonical
    // encodings of a valid MAC, so one ID has exactly one valid cookie per secret.
    const given = Buffer.from(signature, 'latin1');
    for (let index = 0; index < this.keys.length; index++) {
      const expected = Buffer.from(this.mac(this.keys[index], value), 'latin1');
      if (timingSafeEqual(expected, given)) return { ok: true, id: value, secretIndex: index };
    }
    return { ok: false, reason: 'bad signature or unknown secret' };
  }

  private mac(key: KeyObject, value: string): string {
    return createHmac('sha256', key).update(value).digest('base64url');
  }
}
