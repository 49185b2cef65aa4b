import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseExpressSessionRecord } from '../../../src/legacy/express-session-record.js';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const LATER = new Date(NOW + 3_600_000).toISOString();
const cookie = (expires: string | null | undefined | Date | number) => ({ originalMaxAge: 3_600_000, expires, httpOnly: true, path: '/' });
/** A record as connect-redis stores it: `JSON.stringify(req.session)`. */
const stored = (record: object) => JSON.stringify(record);

describe('parseExpressSessionRecord', () => {
  it('reads a connect-redis record: user data without `cookie`, expiry from cookie.expires', () => {
    const raw = stored({ cookie: cookie(LATER), passport: { user: { id: 7, name: 'alice' } }, views: 3 });
    expect(parseExpressSessionRecord(raw, NOW)).toEqual({
      data: { passport: { user: { id: 7, name: 'alice' } }, views: 3 },
      expiresAt: NOW + 3_600_000,
    });
  });

  it('treats a null or absent expires as a browser-session cookie', () => {
    expect(parseExpressSessionRecord(stored({ cookie: { ...cookie(null), originalMaxAge: null }, a: 1 }), NOW)).toEqual({ data: { a: 1 }, expiresAt: undefined });
    expect(parseExpressSessionRecord(stored({ cookie: { path: '/' }, a: 1 }), NOW)).toEqual({ data: { a: 1 }, expiresAt: undefined });
  });

  it('refuses a record that has expired, at the exact instant too', () => {
    const at = (ms: number) => stored({ cookie: cookie(new Date(ms).toISOString()), a: 1 });
    expect(parseExpressSessionRecord(at(NOW - 1), NOW)).toBeNull();
    expect(parseExpressSessionRecord(at(NOW), NOW)).toBeNull();
    expect(parseExpressSessionRecord(at(NOW + 1), NOW)).toEqual({ data: { a: 1 }, expiresAt: NOW + 1 });
  });

  it('reads parsed objects as express-session stores return them, with a Date expires, without touching them', () => {
    const record = { cookie: cookie(new Date(LATER)), passport: { user: 'u1' } };
    const before = structuredClone(record);
    const parsed = parseExpressSessionRecord(record, NOW);
    expect(parsed).toEqual({ data: { passport: { user: 'u1' } }, expiresAt: Date.parse(LATER) });
    parsed!.data['passport'] = 'changed';
    expect(record).toEqual(before);
    // Already expired in the store's own terms:
    expect(parseExpressSessionRecord({ cookie: cookie(new Date(NOW - 1)), a: 1 }, NOW)).toBeNull();
  });

  it('reads the record as UTF-8 bytes', () => {
    const raw = Buffer.from(stored({ cookie: cookie(LATER), name: 'Zoë ✓' }), 'utf8');
    expect(parseExpressSessionRecord(raw, NOW)).toEqual({ data: { name: 'Zoë ✓' }, expiresAt: Date.parse(LATER) });
    expect(parseExpressSessionRecord(Buffer.from([0x7b, 0xff, 0x7d]), NOW)).toBeNull();
  });

  it('accepts a numeric expires (epoch ms) and a non-ISO date string', () => {
    expect(parseExpressSessionRecord(stored({ cookie: cookie(NOW + 5) }), NOW)?.expiresAt).toBe(NOW + 5);
    expect(parseExpressSessionRecord(stored({ cookie: cookie('Tue, 01 Jan 2030 01:00:00 GMT') }), NOW)?.expiresAt).toBe(NOW + 3_600_000);
  });

  const cyclic: Record<string, unknown> = { cookie: cookie(LATER) };
  cyclic['self'] = cyclic;
  const throwing = { cookie: cookie(LATER), get boom(): never { throw new Error('getter'); } };

  it.each<[string, unknown, number?]>([
    ['null', null],
    ['undefined', undefined],
    ['empty text', ''],
    ['not JSON', '{cookie:'],
    ['truncated JSON', stored({ cookie: cookie(LATER), a: 1 }).slice(0, -1)],
    ['JSON null', 'null'],
    ['JSON array', '[{"cookie":{}}]'],
    ['JSON string', '"{\\"cookie\\":{}}"'],
    ['JSON number', '42'],
    ['an array object', [{ cookie: {} }]],
    ['no cookie', '{"passport":{"user":1}}'],
    ['cookie null', '{"cookie":null}'],
    ['cookie a string', '{"cookie":"x"}'],
    ['cookie an array', '{"cookie":[]}'],
    ['expires not a date', stored({ cookie: cookie('soon') })],
    ['expires a boolean', '{"cookie":{"expires":true}}'],
    ['expires an object', '{"cookie":{"expires":{}}}'],
    ['expires NaN-ish', '{"cookie":{"expires":"Invalid Date"}}'],
    ['a cyclic object', cyclic],
    ['a BigInt', { cookie: cookie(LATER), n: 1n }],
    ['a throwing getter', throwing],
    ['now NaN', stored({ cookie: cookie(LATER) }), Number.NaN],
    ['now Infinity', stored({ cookie: cookie(LATER) }), Number.POSITIVE_INFINITY],
    ['now a string', stored({ cookie: cookie(LATER) }), String(NOW) as unknown as number],
    ['a number', 42],
    ['a function', () => ({ cookie: {} })],
  ])('returns null for %s', (_label, raw, now = NOW) => {
    expect(parseExpressSessionRecord(raw, now)).toBeNull();
  });

  describe('prototype pollution attempts', () => {
    it.each([
      ['top-level __proto__', `{"cookie":{"expires":null},"__proto__":{"polluted":true}}`],
      ['nested __proto__', `{"cookie":{"expires":null},"passport":{"user":{"__proto__":{"polluted":true}}}}`],
      ['__proto__ in cookie', `{"cookie":{"expires":null,"__proto__":{"polluted":true}}}`],
      ['__proto__ in an array', `{"cookie":{"expires":null},"list":[{"__proto__":{"polluted":true}}]}`],
      ['escaped __proto__', `{"cookie":{"expires":null},"\\u005f_proto__":{"polluted":true}}`],
      ['constructor.prototype', `{"cookie":{"expires":null},"constructor":{"prototype":{"polluted":true}}}`],
      ['nested constructor', `{"cookie":{"expires":null},"a":{"constructor":{"prototype":{"polluted":true}}}}`],
    ])('refuses %s and pollutes nothing', (_label, raw) => {
      expect(parseExpressSessionRecord(raw, NOW)).toBeNull();
      // An object with an own `__proto__` (what JSON.parse builds), as a store might hand it over.
      expect(parseExpressSessionRecord(JSON.parse(raw) as object, NOW)).toBeNull();
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('still accepts keys that merely contain those words', () => {
      const raw = stored({ cookie: cookie(null), proto: 1, __proto: 2, constructorName: 3, prototypes: [4] });
      expect(parseExpressSessionRecord(raw, NOW)?.data).toEqual({ proto: 1, __proto: 2, constructorName: 3, prototypes: [4] });
    });
  });

  const forbidden = new Set(['__proto__', 'constructor', 'prototype']);
  const hasForbiddenKey = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && Object.entries(value).some(([k, v]) => forbidden.has(k) || hasForbiddenKey(v));

  it('round-trips any JSON user data with a future expiry (unless it holds a forbidden key)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string().filter((k) => k !== 'cookie'), fc.jsonValue()),
        fc.option(fc.integer({ min: 1, max: 10 * 365 * 86_400_000 }), { nil: null }),
        (data, ttl) => {
          const expires = ttl === null ? null : new Date(NOW + ttl).toISOString();
          const raw = stored({ cookie: cookie(expires), ...data });
          const parsed = parseExpressSessionRecord(raw, NOW);
          if (hasForbiddenKey(JSON.parse(raw))) return void expect(parsed).toBeNull();
          expect(parsed).toEqual({ data: JSON.parse(JSON.stringify(data)), expiresAt: ttl === null ? undefined : NOW + ttl });
          expect(parseExpressSessionRecord(raw, NOW + (ttl ?? Number.MAX_SAFE_INTEGER))).toEqual(ttl === null ? parsed : null);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary input, JSON or not', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string(),
          fc.json(),
          fc.object().map((o) => ({ cookie: cookie(LATER), ...o })),
          fc.tuple(fc.string(), fc.nat()).map(([junk, at]) => {
            const raw = stored({ cookie: cookie(LATER), passport: { user: 'u' } });
            const i = at % raw.length;
            return raw.slice(0, i) + junk + raw.slice(i + 1);
          }),
        ),
        fc.oneof(fc.constant(NOW), fc.double()),
        (raw, now) => {
          const parsed = parseExpressSessionRecord(raw, now);
          if (parsed !== null) {
            expect(Object.getPrototypeOf(parsed.data)).toBe(Object.prototype);
            expect('cookie' in parsed.data).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
