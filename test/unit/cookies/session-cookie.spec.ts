import { describe, expect, it } from '@jest/globals';
import { SessionCookie } from '../../../src/cookies/session-cookie.js';
import { SessionCookieTooLargeError } from '../../../src/errors/session.errors.js';
import { resolveSessionOptions } from '../../../src/options/session-options.validator.js';

const SECRET = 'session-cookie-secret-at-least-32-chars';
const OLD = 'session-cookie-old-secret-at-least-32-ch';

function cookieOf(secret: string | string[] = SECRET, maxSize = 4096) {
  const rejected: string[] = [];
  const cookie = new SessionCookie(resolveSessionOptions({ secret, logger: false }), maxSize, (reason) => rejected.push(reason));
  return { cookie, rejected };
}

const valueOf = (setCookie: string) => /^sid=([^;]*)/.exec(setCookie)![1]!;

describe('SessionCookie', () => {
  it('round-trips: the Set-Cookie value it writes is read back as the same ID', () => {
    const { cookie } = cookieOf();
    const header = cookie.header({ kind: 'set', value: 'abc_DEF-123', maxAge: 60 })!;
    expect(header).toMatch(/^sid=abc_DEF-123\.[A-Za-z0-9_-]{43}; Max-Age=60; Path=\//);
    expect(cookie.read({ headers: { cookie: `other=1; sid=${valueOf(header)}` } }, true)).toEqual({ ok: true, id: 'abc_DEF-123', secretIndex: 0 });
  });

  it('keep sends nothing; clear sends the clearing cookie', () => {
    const { cookie } = cookieOf();
    expect(cookie.header({ kind: 'keep' })).toBeUndefined();
    expect(cookie.header({ kind: 'clear' })).toMatch(/^sid=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
  });

  it('reports why a present cookie is refused, only when asked to; a missing one is no event', () => {
    const { cookie, rejected } = cookieOf();
    expect(cookie.read({ headers: {} }, true)).toBeUndefined();
    expect(cookie.read({ headers: { cookie: 'sid=nodot' } }, false)).toBeUndefined();
    expect(rejected).toEqual([]);
    expect(cookie.read({ headers: { cookie: `sid=abc.${'A'.repeat(43)}` } }, true)).toBeUndefined();
    expect(rejected).toEqual(['bad signature or unknown secret']);
  });

  it('tells which secret verified it (an older one means re-issue)', () => {
    const old = cookieOf(OLD).cookie.header({ kind: 'set', value: 'id1', maxAge: undefined })!;
    expect(cookieOf([SECRET, OLD]).cookie.read({ headers: { cookie: `sid=${valueOf(old)}` } }, true)).toMatchObject({ id: 'id1', secretIndex: 1 });
  });

  it('refuses to write a cookie over the size limit, naming the size', () => {
    const { cookie } = cookieOf(SECRET, 100);
    expect(() => cookie.header({ kind: 'set', value: 'x'.repeat(80), maxAge: 1 })).toThrow(SessionCookieTooLargeError);
  });
});
