import { describe, expect, it } from '@jest/globals';
import { sign, unsign } from 'cookie-signature';
import express from 'express';
import session from 'express-session';
import fc from 'fast-check';
import request from 'supertest';
import { unsignExpressSessionCookie } from '../../../src/legacy/express-session-cookie.js';

const NEW_SECRET = 'new secret, rotated in last week';
const OLD_SECRET = 'old secret that still has live cookies';
const OTHER_SECRET = 'a secret this app never had';

/** A real express-session app (MemoryStore); `/login` saves a session and reports its ID. */
function legacyApp(secret: string | string[]) {
  const app = express();
  app.use(session({ secret, resave: false, saveUninitialized: false, cookie: { maxAge: 60_000 } }));
  app.get('/login', (req, res) => {
    (req.session as unknown as Record<string, unknown>)['passport'] = { user: 'alice' };
    res.json({ id: req.sessionID });
  });
  app.get('/whoami', (req, res) => {
    res.json({ id: req.sessionID, passport: (req.session as unknown as Record<string, unknown>)['passport'] ?? null });
  });
  return app;
}

/** The `connect.sid` value exactly as it appears in the Set-Cookie header, and the session ID. */
async function login(app: express.Express): Promise<{ value: string; id: string }> {
  const response = await request(app).get('/login').expect(200);
  const header = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='));
  if (!header) throw new Error('express-session set no connect.sid cookie');
  const value = header.slice('connect.sid='.length, header.indexOf(';'));
  return { value, id: (response.body as { id: string }).id };
}

describe('unsignExpressSessionCookie against a real express-session app', () => {
  it('reads the URL-encoded Set-Cookie value and its decoded form', async () => {
    const { value, id } = await login(legacyApp(NEW_SECRET));
    expect(value).toMatch(/^s%3A[^.]+\.[A-Za-z0-9%]{43,}$/);
    expect(unsignExpressSessionCookie(value, [NEW_SECRET])).toBe(id);
    expect(unsignExpressSessionCookie(decodeURIComponent(value), [NEW_SECRET])).toBe(id);
    expect(unsignExpressSessionCookie(`"${value}"`, [NEW_SECRET])).toBe(id);
  });

  it('accepts cookies of a rotated-out secret still in the list, in any position', async () => {
    const old = await login(legacyApp(OLD_SECRET));
    expect(unsignExpressSessionCookie(old.value, [NEW_SECRET, OLD_SECRET])).toBe(old.id);
    expect(unsignExpressSessionCookie(old.value, [OLD_SECRET, NEW_SECRET])).toBe(old.id);
    // An app configured with [new, old] signs with the first.
    const rotated = await login(legacyApp([NEW_SECRET, OLD_SECRET]));
    expect(unsignExpressSessionCookie(rotated.value, [NEW_SECRET])).toBe(rotated.id);
    expect(unsignExpressSessionCookie(rotated.value, [OLD_SECRET])).toBeNull();
  });

  it('refuses a wrong secret and an empty secret list', async () => {
    const { value } = await login(legacyApp(NEW_SECRET));
    expect(unsignExpressSessionCookie(value, [OTHER_SECRET])).toBeNull();
    expect(unsignExpressSessionCookie(value, [])).toBeNull();
  });

  it('refuses every single-character tampering of the ID, the dot or the signature', async () => {
    const { value } = await login(legacyApp(NEW_SECRET));
    const decoded = decodeURIComponent(value);
    for (let i = 2; i < decoded.length; i++) {
      const replacement = decoded[i] === 'A' ? 'B' : 'A';
      const tampered = decoded.slice(0, i) + replacement + decoded.slice(i + 1);
      expect(unsignExpressSessionCookie(tampered, [NEW_SECRET])).toBeNull();
      expect(unsignExpressSessionCookie(encodeURIComponent(tampered), [NEW_SECRET])).toBeNull();
    }
  });

  it('refuses what express-session itself would not read as a signed cookie', async () => {
    const { value } = await login(legacyApp(NEW_SECRET));
    const decoded = decodeURIComponent(value);
    expect(unsignExpressSessionCookie(decoded.slice(2), [NEW_SECRET])).toBeNull(); // no `s:`
    expect(unsignExpressSessionCookie(`S${decoded.slice(1)}`, [NEW_SECRET])).toBeNull();
    expect(unsignExpressSessionCookie(encodeURIComponent(value), [NEW_SECRET])).toBeNull(); // encoded twice
    expect(unsignExpressSessionCookie(`${decoded}=`, [NEW_SECRET])).toBeNull(); // padding kept
    expect(unsignExpressSessionCookie(`${value}%`, [NEW_SECRET])).toBeNull(); // malformed escape
    expect(unsignExpressSessionCookie('s%3A%E0%A4%A', [NEW_SECRET])).toBeNull();
    expect(unsignExpressSessionCookie('s%3Aabc.%ZZ', [NEW_SECRET])).toBeNull();
  });

  it('refuses a tampered cookie that express-session also refuses, and agrees on a valid one', async () => {
    const app = legacyApp(NEW_SECRET);
    const { value, id } = await login(app);
    const same = await request(app).get('/whoami').set('Cookie', `connect.sid=${value}`).expect(200);
    expect(same.body).toEqual({ id, passport: { user: 'alice' } });
    const tamperedId = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    const forged = `s:${tamperedId}${decodeURIComponent(value).slice(2 + id.length)}`;
    expect(unsignExpressSessionCookie(forged, [NEW_SECRET])).toBeNull();
    const refused = await request(app).get('/whoami').set('Cookie', `connect.sid=${encodeURIComponent(forged)}`).expect(200);
    expect(refused.body).toMatchObject({ passport: null });
  });
});

describe('unsignExpressSessionCookie against cookie-signature', () => {
  const secretArb = fc.string({ maxLength: 48 });
  const idArb = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 32 }));

  /** What express-session reads: a `s:` value that cookie-signature's unsign accepts with some secret. */
  function expressSessionReads(decoded: string | null, secrets: string[]): string | null {
    if (decoded === null || !decoded.startsWith('s:')) return null;
    for (const secret of secrets) {
      const id = unsign(decoded.slice(2), secret);
      // express-session would use an empty ID; we refuse it.
      if (id !== false) return id === '' ? null : id;
    }
    return null;
  }

  function decode(value: string): string | null {
    const unquoted = /^".*"$/s.test(value) ? value.slice(1, -1) : value;
    if (!/^s%3a/i.test(unquoted)) return unquoted;
    try {
      return decodeURIComponent(unquoted);
    } catch {
      return null;
    }
  }

  it('accepts every value cookie-signature signs (IDs with dots, Unicode, any secret), encoded or not', () => {
    fc.assert(
      fc.property(idArb, fc.array(secretArb, { minLength: 1, maxLength: 4 }), fc.nat(), (id, secrets, pick) => {
        const signed = `s:${sign(id, secrets[pick % secrets.length]!)}`;
        expect(unsignExpressSessionCookie(signed, secrets)).toBe(id);
        expect(unsignExpressSessionCookie(encodeURIComponent(signed), secrets)).toBe(id);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses values signed with a secret not in the list', () => {
    fc.assert(
      fc.property(idArb, fc.array(secretArb, { maxLength: 4 }), secretArb, (id, secrets, other) => {
        fc.pre(!secrets.includes(other));
        expect(unsignExpressSessionCookie(`s:${sign(id, other)}`, secrets)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts a mutated value exactly when cookie-signature accepts it', () => {
    const edit = fc.record({
      at: fc.nat(),
      // `quote` and `lowercase` keep the meaning (cookie parsers strip quotes; %2b is %2B).
      op: fc.constantFrom('replace', 'insert', 'delete', 'quote', 'lowercase'),
      char: fc.oneof(fc.constantFrom('.', '%', ':', 's', '=', '+', '/', '"', 'A', '%3A', '%2B', '%2F'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })),
    });
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(idArb, secretArb, fc.boolean(), fc.array(edit, { minLength: 1, maxLength: 3 }), (id, secret, encoded, edits) => {
        const original = `s:${sign(id, secret)}`;
        let value = encoded ? encodeURIComponent(original) : original;
        for (const { at, op, char } of edits) {
          const i = at % (value.length + 1);
          if (op === 'quote') value = `"${value}"`;
          else if (op === 'lowercase') value = value.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
          else if (op === 'insert') value = value.slice(0, i) + char + value.slice(i);
          else if (op === 'delete') value = value.slice(0, i) + value.slice(i + 1);
          else value = value.slice(0, i) + char + value.slice(i + 1);
        }
        const result = unsignExpressSessionCookie(value, [secret]);
        expect(result).toBe(expressSessionReads(decode(value), [secret]));
        // Whatever is accepted is exactly what cookie-signature would have produced for it.
        if (result !== null) expect(decode(value)).toBe(`s:${sign(result, secret)}`);
        outcomes[result === null ? 'refused' : 'accepted']++;
      }),
      { numRuns: 3000 },
    );
    // Both sides of the equivalence were exercised.
    expect(outcomes.accepted).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(1000);
  });

  it('never throws and never accepts random input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'binary' }).map((s) => `s:${s}`),
          fc.string().map((s) => `s%3A${s}`),
          fc.tuple(fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9+/]{43}$/)).map(([id, sig]) => `s:${id}.${sig}`),
          fc.anything(),
        ),
        fc.oneof(fc.array(secretArb, { maxLength: 3 }), fc.anything()),
        (value, secrets) => {
          expect(unsignExpressSessionCookie(value as string, secrets as string[])).toBeNull();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses an empty ID, which cookie-signature would sign and unsign', () => {
    const empty = `s:${sign('', NEW_SECRET)}`;
    expect(unsign(empty.slice(2), NEW_SECRET)).toBe('');
    expect(unsignExpressSessionCookie(empty, [NEW_SECRET])).toBeNull();
  });

  it('accepts values up to 4096 characters and refuses longer ones (browsers drop such cookies)', () => {
    const idAtLimit = 'x'.repeat(4096 - 's:'.length - '.'.length - 43);
    const atLimit = `s:${sign(idAtLimit, NEW_SECRET)}`;
    expect(atLimit).toHaveLength(4096);
    expect(unsignExpressSessionCookie(atLimit, [NEW_SECRET])).toBe(idAtLimit);
    expect(unsignExpressSessionCookie(`s:${sign(`${idAtLimit}x`, NEW_SECRET)}`, [NEW_SECRET])).toBeNull();
  });

  it('skips non-string secrets instead of throwing', () => {
    const signed = `s:${sign('abc', NEW_SECRET)}`;
    expect(unsignExpressSessionCookie(signed, [undefined, 42, null, NEW_SECRET] as unknown as string[])).toBe('abc');
    expect(unsignExpressSessionCookie(signed, 'not an array' as unknown as string[])).toBeNull();
  });
});
