import { describe, expect, it } from '@jest/globals';
import { stringifySetCookie } from '../../../src/cookies/cookie-header.js';
import fc from 'fast-check';
import { SessionCookieSerializer } from '../../../src/cookies/session-cookie.serializer.js';

const options = fc.record({
  name: fc.constantFrom('sid', '__Host-sid', 'app.session'),
  path: fc.constantFrom('/', '/app', '/a/b'),
  sameSite: fc.constantFrom('lax' as const, 'strict' as const, 'none' as const),
  secure: fc.boolean(),
  httpOnly: fc.boolean(),
  domain: fc.option(fc.constantFrom('example.com', 'sub.example.org'), { nil: undefined }),
  partitioned: fc.option(fc.boolean(), { nil: undefined }),
  priority: fc.option(fc.constantFrom('low' as const, 'medium' as const, 'high' as const), { nil: undefined }),
});
const value = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{43}$/);
const maxAge = fc.option(fc.integer({ min: 1, max: 400 * 86400 }), { nil: undefined });

describe('SessionCookieSerializer', () => {
  it('writes exactly what stringifySetCookie writes, for any attributes, value and Max-Age', () => {
    fc.assert(
      fc.property(options, value, maxAge, (cookie, signed, age) => {
        const serializer = new SessionCookieSerializer(cookie);
        const { name, ...attributes } = cookie;
        expect(serializer.serialize(signed, age)).toBe(stringifySetCookie({ name, value: signed, ...attributes, maxAge: age }));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a Max-Age that is not a whole number of seconds', () => {
    const serializer = new SessionCookieSerializer({ name: 'sid', path: '/', sameSite: 'lax', secure: true, httpOnly: true });
    expect(() => serializer.serialize('a.b', 1.5)).toThrow(/integer/);
  });
});
