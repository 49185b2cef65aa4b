import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  createCsrfSecret,
  CSRF_UNSAFE_METHODS,
  DEFAULT_CSRF_FORM_FIELD,
  DEFAULT_CSRF_HEADER,
  maskCsrfToken,
  verifyCsrfToken,
} from '../../../src/csrf/csrf-token.js';

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64url'));

describe('CSRF constants', () => {
  it('names the SPEC §11.6 defaults', () => {
    expect(DEFAULT_CSRF_HEADER).toBe('x-csrf-token');
    expect(DEFAULT_CSRF_FORM_FIELD).toBe('_csrf');
    expect([...CSRF_UNSAFE_METHODS].sort()).toEqual(['DELETE', 'PATCH', 'POST', 'PUT']);
    for (const safe of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect(CSRF_UNSAFE_METHODS.has(safe)).toBe(false);
  });
});

describe('createCsrfSecret', () => {
  it('returns 32 random bytes as unpadded base64url', () => {
    const secret = createCsrfSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(new Set(Array.from({ length: 100 }, createCsrfSecret)).size).toBe(100);
  });
});

describe('maskCsrfToken', () => {
  it('is base64url(mask || mask XOR secret)', () => {
    const secret = createCsrfSecret();
    const bytes = Buffer.from(maskCsrfToken(secret), 'base64url');
    expect(bytes).toHaveLength(64);
    const mask = bytes.subarray(0, 32);
    const masked = bytes.subarray(32);
    const unmasked = Buffer.from(mask.map((byte, i) => byte ^ masked[i]!));
    expect(unmasked.toString('base64url')).toBe(secret);
    // The secret itself never appears in the token.
    expect(masked.equals(Buffer.from(secret, 'base64url'))).toBe(false);
  });

  it('gives a different URL-safe token per call, and every one verifies', () => {
    const secret = createCsrfSecret();
    const tokens = Array.from({ length: 200 }, () => maskCsrfToken(secret));
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{86}$/);
      expect(encodeURIComponent(token)).toBe(token);
      expect(verifyCsrfToken(secret, token)).toBe(true);
    }
  });

  it.each([
    ['empty', ''],
    ['too short', 'a'.repeat(42)],
    ['too long', 'a'.repeat(44)],
    ['not base64url', `${'a'.repeat(42)}+`],
    ['padded base64', `${Buffer.alloc(32, 1).toString('base64')}`],
  ])('throws a TypeError for a secret that is %s (a programming error)', (_label, secret) => {
    expect(() => maskCsrfToken(secret)).toThrow(TypeError);
  });
});

describe('verifyCsrfToken', () => {
  const secret = createCsrfSecret();
  const token = maskCsrfToken(secret);

  it.each<[string, string | undefined, unknown]>([
    ['undefined secret', undefined, token],
    ['empty secret', '', token],
    ['malformed secret', 'x'.repeat(43), token],
    ['undefined token', secret, undefined],
    ['null token', secret, null],
    ['number token', secret, 42],
    ['array token', secret, [token]],
    ['object token', secret, { toString: () => token }],
    ['Buffer token', secret, Buffer.from(token)],
    ['empty token', secret, ''],
    ['the raw secret as token', secret, secret],
    ['a truncated token', secret, token.slice(0, -1)],
    ['a token with an extra character', secret, `${token}A`],
    ['a padded token', secret, `${token}==`],
    ['standard base64 spelling', secret, Buffer.from(token, 'base64url').toString('base64')],
    ['a token with whitespace', secret, ` ${token.slice(1)}`],
  ])('is false for %s', (_label, s, t) => {
    expect(verifyCsrfToken(s, t)).toBe(false);
  });

  it('rejects a non-canonical spelling of a valid token (unused low bits of the last character)', () => {
    const last = token.at(-1)!;
    // 64 bytes use 4 of the 6 bits of the last character; the other spellings decode to the same bytes.
    const siblings = [1, 2, 3].map((bits) => BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(last) ^ bits]!);
    for (const sibling of siblings) {
      const spelling = token.slice(0, -1) + sibling;
      expect(Buffer.from(spelling, 'base64url').equals(Buffer.from(token, 'base64url'))).toBe(true);
      expect(verifyCsrfToken(secret, spelling)).toBe(false);
    }
  });

  it('round-trips random secrets', () => {
    fc.assert(
      fc.property(secretArb, (s) => {
        expect(verifyCsrfToken(s, maskCsrfToken(s))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never accepts a token of another secret', () => {
    fc.assert(
      fc.property(secretArb, secretArb, (a, b) => {
        fc.pre(a !== b);
        expect(verifyCsrfToken(b, maskCsrfToken(a))).toBe(false);
        expect(verifyCsrfToken(a, maskCsrfToken(b))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects any token with one character changed', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.nat({ max: 85 }),
        fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
        (s, index, replacement) => {
          const original = maskCsrfToken(s);
          fc.pre(original[index] !== replacement);
          const tampered = original.slice(0, index) + replacement + original.slice(index + 1);
          expect(verifyCsrfToken(s, tampered)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects any token with one decoded byte changed', () => {
    fc.assert(
      fc.property(secretArb, fc.nat({ max: 63 }), fc.integer({ min: 1, max: 255 }), (s, index, flip) => {
        const bytes = Buffer.from(maskCsrfToken(s), 'base64url');
        bytes[index] = bytes[index]! ^ flip;
        expect(verifyCsrfToken(s, bytes.toString('base64url'))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts and never throws on random strings or values', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_-]{86}$/), fc.anything()),
        fc.option(fc.oneof(secretArb, fc.string()), { nil: undefined }),
        (t, s) => {
          expect(verifyCsrfToken(s, t)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
