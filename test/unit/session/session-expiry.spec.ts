import { describe, expect, it } from '@jest/globals';
import { SessionExpiry } from '../../../src/session/session-expiry.js';

const base = { lifetime: 60, rolling: false, maxLifetime: undefined, fallbackTtl: 1000 };

describe('SessionExpiry', () => {
  it('fixed: expires lifetime after creation, whatever the last access', () => {
    const expiry = new SessionExpiry(base);
    expect(expiry.isExpired({ created: 0, accessed: 59_000 }, 59_999)).toBe(false);
    expect(expiry.isExpired({ created: 0, accessed: 59_000 }, 60_000)).toBe(true);
  });

  it('rolling: idle deadline from the last access, whatever the store does with TTLs', () => {
    const expiry = new SessionExpiry({ ...base, rolling: true });
    expect(expiry.isExpired({ created: 0, accessed: 100_000 }, 159_999)).toBe(false);
    expect(expiry.isExpired({ created: 0, accessed: 100_000 }, 160_000)).toBe(true);
  });

  it('maxLifetime caps a rolling session from creation', () => {
    const expiry = new SessionExpiry({ ...base, rolling: true, maxLifetime: 120 });
    expect(expiry.isExpired({ created: 0, accessed: 119_000 }, 119_999)).toBe(false);
    expect(expiry.isExpired({ created: 0, accessed: 119_000 }, 120_000)).toBe(true);
    expect(expiry.remainingMs(0, 100_000, 100_000)).toBe(20_000);
  });

  it('lifetime 0: the data lives fallbackTtl after the last write, the cookie has no Max-Age', () => {
    const expiry = new SessionExpiry({ ...base, lifetime: 0 });
    expect(expiry.isExpired({ created: 0, accessed: 500_000 }, 1_499_999)).toBe(false);
    expect(expiry.isExpired({ created: 0, accessed: 500_000 }, 1_500_000)).toBe(true);
    expect(expiry.storeTtl(expiry.remainingMs(0, 5_000, 5_000))).toBe(1000);
    expect(expiry.cookieMaxAge(expiry.remainingMs(0, 5_000, 5_000))).toBeUndefined();
  });

  it('cookie Max-Age rounds up (never 0 while valid, lifetime 1); store TTLs keep ms precision (never longer, never shorter)', () => {
    const expiry = new SessionExpiry({ ...base, lifetime: 1 });
    expect(expiry.cookieMaxAge(expiry.remainingMs(0, 1, 1))).toBe(1);
    expect(expiry.cookieMaxAge(expiry.remainingMs(0, 999, 999))).toBe(1);
    expect(expiry.storeTtl(expiry.remainingMs(0, 999, 999))).toBe(0.001);
    const sixty = new SessionExpiry(base);
    expect(sixty.cookieMaxAge(sixty.remainingMs(0, 30_001, 30_001))).toBe(30);
    expect(sixty.cookieMaxAge(sixty.remainingMs(0, 29_999, 29_999))).toBe(31);
    expect(sixty.storeTtl(sixty.remainingMs(0, 29_999, 29_999))).toBe(30.001);
    expect(sixty.storeTtl(sixty.remainingMs(0, 30_001, 30_001))).toBe(29.999);
    expect(sixty.storeTtl(sixty.remainingMs(0, 3, 3))).toBe(59.997);
  });

  it('rolling: the idle deadline counts from the stored stamp, even when the store could touch (a touch that ignores TTLs keeps nothing alive)', () => {
    const expiry = new SessionExpiry({ ...base, rolling: true });
    // Stamped at 100 s: a touch at 130 s does not move the deadline; what is left counts from the stamp.
    expect(expiry.remainingMs(0, 100_000, 130_000)).toBe(30_000);
    expect(expiry.isExpired({ created: 0, accessed: 100_000 }, 160_000)).toBe(true);
  });

  it('rolling: the stamp is rewritten once older than a twentieth of the lifetime (at most 60 s), so the deadline is never late and at most that early', () => {
    const short = new SessionExpiry({ ...base, rolling: true, lifetime: 1 });
    expect(short.stampRefreshMs()).toBe(50);
    expect(short.stampIsStale(1000, 1049)).toBe(false);
    expect(short.stampIsStale(1000, 1050)).toBe(true);
    const long = new SessionExpiry({ ...base, rolling: true, lifetime: 1_209_600 });
    expect(long.stampRefreshMs()).toBe(60_000);
  });

  it("a session's own lifetime (remember me) replaces the module's, still capped by maxLifetime", () => {
    const expiry = new SessionExpiry({ ...base, lifetime: 60, maxLifetime: 600 });
    expect(expiry.remainingMs(0, 0, 1000, 300)).toBe(299_000);
    expect(expiry.isExpired({ created: 0, accessed: 0 }, 100_000, 300)).toBe(false);
    expect(expiry.isExpired({ created: 0, accessed: 0 }, 100_000)).toBe(true);
    expect(expiry.remainingMs(0, 0, 1000, 86_400)).toBe(599_000);
    expect(expiry.cookieMaxAge(299_000, 300)).toBe(299);
    // 0: a browser-session cookie for this session alone.
    expect(expiry.cookieMaxAge(299_000, 0)).toBeUndefined();
    expect(expiry.stampRefreshMs(300)).toBe(15_000);
  });
});
