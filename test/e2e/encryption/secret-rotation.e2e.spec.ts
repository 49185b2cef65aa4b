/**
 * Cookie secret rotation (SPEC §2 `secret`, §10.11): with `secret: [NEW, OLD]` a cookie signed
 * with OLD is accepted and re-issued signed with NEW by the first response that loads it, even a
 * read-only one, without rewriting the stored data.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AesGcmEncryptor, CookieStore, type SessionStore } from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { OLD_SECRET, PLATFORMS, SECRET, http, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { cookieStoreId, hmac, sessionApp, sessionIn, sidLine, splitCookie } from './encryption-support.js';

const NEW_SECRET = SECRET;
const LIFETIME = 3600;
const key = randomBytes(32);
describe.each(PLATFORMS)('secret rotation (%s)', (platform) => {
  // One CountingStore per platform: the two platforms never share a store.
  const counting = new CountingStore();
  const kinds: [string, () => SessionStore][] = [
    ['MemoryStore', () => counting],
    ['CookieStore', () => new CookieStore()],
  ];

  describe.each(kinds)('secret rotation with %s', (kindName, store) => {
    let oldApp: INestApplication; // secret: OLD
    let rotating: INestApplication; // secret: [NEW, OLD]
    let newOnly: INestApplication; // secret: NEW
    const common = { cookie: { secure: false }, lifetime: LIFETIME, encryptor: new AesGcmEncryptor(key), logger: false as const };

    beforeAll(async () => {
      oldApp = await startApp(sessionApp(`Old${kindName}`, { ...common, secret: OLD_SECRET, store: store() }), platform);
      rotating = await startApp(sessionApp(`Rotating${kindName}`, { ...common, secret: [NEW_SECRET, OLD_SECRET], store: store() }), platform);
      newOnly = await startApp(sessionApp(`NewOnly${kindName}`, { ...common, secret: NEW_SECRET, store: store() }), platform);
    });
    afterAll(async () => {
      await Promise.all([oldApp, rotating, newOnly].map((app) => app?.close()));
    });
    beforeEach(() => counting.reset());

    async function oldCookie(): Promise<string> {
      const cookie = sessionCookie(await http(oldApp).get('/count').expect(200, { count: 1 }))!;
      const { value, signature } = splitCookie(cookie);
      expect(signature).toBe(hmac(OLD_SECRET, value));
      // Control: an app that does not know OLD rejects it.
      await http(newOnly).get('/peek').set('Cookie', cookie).expect(200, {});
      return cookie;
    }

    const payloadOf = (pair: string) => sessionIn(new CookieStore(), cookieStoreId(pair), new AesGcmEncryptor(key));

    it('a read-only request with an OLD-signed cookie is answered and the cookie re-issued signed with NEW', async () => {
      const cookie = await oldCookie();
      const old = splitCookie(cookie);
      counting.reset();

      const res = await http(rotating).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
      const line = sidLine(res);
      expect(line).toBeDefined();
      const reissued = sessionCookie(res)!;
      const { value, signature } = splitCookie(reissued);
      expect(signature).toBe(hmac(NEW_SECRET, value));
      expect(signature).not.toBe(hmac(OLD_SECRET, value));
      if (kindName === 'MemoryStore') {
        // Same session, same ID: a re-signing, not a regeneration; and the data is not rewritten.
        expect(value).toBe(old.value);
        expect(counting.calls.write + counting.calls.update + counting.calls.remove).toBe(0);
      } else {
        expect(await payloadOf(reissued)).toEqual({ count: 1 });
        expect(await payloadOf(cookie)).toEqual({ count: 1 });
      }
      const maxAge = Number(line!.match(/Max-Age=(\d+)/i)?.[1]);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(LIFETIME);

      // The re-issued cookie is the current one: no further re-issue, and NEW-only apps accept it.
      const again = await http(rotating).get('/peek').set('Cookie', reissued).expect(200, { count: 1 });
      expect(setCookies(again).filter((c) => c.startsWith('sid='))).toEqual([]);
      await http(newOnly).get('/peek').set('Cookie', reissued).expect(200, { count: 1 });
    });

    it('a modifying request with an OLD-signed cookie saves the change under a NEW-signed cookie', async () => {
      const cookie = await oldCookie();
      const res = await http(rotating).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      const { value, signature } = splitCookie(sessionCookie(res)!);
      expect(signature).toBe(hmac(NEW_SECRET, value));
      if (kindName === 'MemoryStore') expect(value).toBe(splitCookie(cookie).value);
      await http(newOnly).get('/peek').set('Cookie', sessionCookie(res)!).expect(200, { count: 2 });
    });
  });
});
