/**
 * Reads a session record written by express-session's stores (connect-redis's JSON layout, or
 * the object a `Store.get` hands back) so it can be served and then moved to our format
 * (SPEC §11.3). The record is `{ cookie: { originalMaxAge, expires, httpOnly, path, … },
 * …userData }`, where `expires` is an ISO date string, or null for a browser-session cookie.
 */

export interface ExpressSessionRecord {
  /** The user's data: every top-level key except `cookie` (Passport's is `passport.user`). */
  data: Record<string, unknown>;
  /** Epoch ms at which the old cookie expires; undefined for a browser-session cookie. */
  expiresAt: number | undefined;
}

/**
 * Keys that let a record reach `Object.prototype` once some later code merges it naively
 * (`target[k1][k2] = …`). A session never needs them, so a record holding one anywhere is
 * refused as a whole rather than cleaned, which could silently change what it means.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class RejectedRecord extends Error {}

/**
 * The data and expiry of an express-session record, or null.
 *
 * `raw` may be the JSON text stored by connect-redis (also as UTF-8 bytes) or an already parsed
 * object (e.g. from `Store.get`, where `cookie.expires` may be a `Date`): whatever a
 * `LegacySessionSource.get` resolves to, hence `unknown`. `now` is epoch ms.
 *
 * Returns null, never throws, for: null/undefined, text that is not JSON, JSON that is not an
 * object, a record without a `cookie` object, a `cookie.expires` that is neither null/absent
 * nor a valid date, a record that has expired (`expiresAt <= now`), a `now` that is not a
 * finite number, any `__proto__`, `constructor` or `prototype` key at any depth, and values
 * JSON cannot represent (cycles, BigInt, throwing getters).
 */
export function parseExpressSessionRecord(raw: unknown, now: number): ExpressSessionRecord | null {
  if (raw === null || raw === undefined || typeof now !== 'number' || !Number.isFinite(now)) return null;
  const record = toPlainJson(raw);
  if (!isPlainObject(record)) return null;
  const cookie = record['cookie'];
  if (!isPlainObject(cookie)) return null;
  const expiresAt = readExpiry(cookie['expires']);
  if (expiresAt === null || (expiresAt !== undefined && expiresAt <= now)) return null;
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (key !== 'cookie') data[key] = value;
  return { data, expiresAt };
}

/**
 * Objects go through a JSON round trip as well as text: it copies them (the caller's store keeps
 * its own), turns `Date`s into the ISO strings connect-redis would have stored, drops functions
 * and class instances' hidden state, and lets one reviver screen every key, including own
 * `__proto__` properties that `JSON.parse` creates and a plain object spread would keep.
 */
function toPlainJson(raw: unknown): unknown {
  if (typeof raw !== 'string' && typeof raw !== 'object') return undefined;
  try {
    const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : JSON.stringify(raw);
    if (typeof text !== 'string') return undefined;
    return JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new RejectedRecord();
      return value;
    });
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** undefined: a browser-session cookie; null: not a date express-session could have written. */
function readExpiry(expires: unknown): number | undefined | null {
  if (expires === undefined || expires === null) return undefined;
  const at = typeof expires === 'string' ? Date.parse(expires) : typeof expires === 'number' ? expires : Number.NaN;
  return Number.isFinite(at) ? at : null;
}
