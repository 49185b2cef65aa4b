import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { CookieSigner } from '../../../src/cookies/cookie.signer.js';
import { generateSessionId } from '../../../src/session/session-id.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(40);

describe('CookieSigner', () => {
  it('signs as <id>.<base64url HMAC-SHA256> with the first secret', () => {
    const signer = new CookieSigner([A, B], 100);
    const mac = createHmac('sha256', A).update('abc').digest('base64url');
    expect(signer.sign('abc')).toBe(`abc.${mac}`);
  });

  it('verifies with every secret and reports which one (rotation)', () => {
    const old = new CookieSigner([B], 100).sign('xyz');
    expect(new CookieSigner([A, B], 100).verify(old)).toEqual({ ok: true, id: 'xyz', secretIndex: 1 });
    expect(new CookieSigner([A], 100).verify(old)).toEqual({ ok: false, reason: 'bad signature or unknown secret' });
  });

  it.each([
    ['', 'malformed cookie value'],
    ['noseparator', 'malformed cookie value'],
    ['.onlysig', 'malformed cookie value'],
    ['id.short', 'malformed cookie value'],
    [`id with space.${'A'.repeat(43)}`, 'malformed cookie value'],
    [`id.${'!'.repeat(43)}`, 'malformed cookie value'],
    [`${'a'.repeat(200)}.${'A'.repeat(43)}`, 'cookie value too long'],
  ])('rejects %j as %s', (value, reason) => {
    expect(new CookieSigner([A], 100).verify(value)).toEqual({ ok: false, reason });
  });

  it('rejects a non-canonical spelling of a valid signature', () => {
    const signer = new CookieSigner([A], 100);
    const signed = signer.sign('abc');
    // The last base64url character of a 32-byte MAC carries 2 unused bits; flipping them
    // decodes to the same bytes but must not verify.
    const last = signed.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    expect(signer.verify(signed.slice(0, -1) + sibling).ok).toBe(false);
  });

  it('round-trips any ID under any secret list, and rejects any other secret', () => {
    const secret = fc.string({ minLength: 32, maxLength: 64 });
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.array(secret, { minLength: 1, maxLength: 4 }), secret, (id, secrets, other) => {
        const signer = new CookieSigner(secrets, 100);
        const signed = signer.sign(id);
        expect(signer.verify(signed)).toEqual({ ok: true, id, secretIndex: 0 });
        const verifiedByLast = new CookieSigner([other, ...secrets], 100).verify(new CookieSigner([secrets.at(-1)!], 100).sign(id));
        expect(verifiedByLast.ok).toBe(true);
        if (!secrets.includes(other)) expect(new CookieSigner([other], 100).verify(signed).ok).toBe(false);
      }),
    );
  });
});

describe('generateSessionId', () => {
  it('gives at least 128 random bits, URL-safe, unique', () => {
    const ids = new Set(Array.from({ length: 10_000 }, generateSessionId));
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 100)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });
});
