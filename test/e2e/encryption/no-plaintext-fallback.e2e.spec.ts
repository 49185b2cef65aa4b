/**
 * Data that fails to decrypt is an empty session and never falls back to another decoder: a
 * session stored unencrypted (by an app without an encryptor, or a forged, correctly signed
 * plaintext cookie) is not read by an app that has an encryptor.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { CookieStore, MemoryStore } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { AES_GCM, FERNET, cookieStoreId, sessionApp, sessionIn } from './encryption-support.js';

describe.each(PLATFORMS)('no plaintext fallback (%s)', (platform) => {
  describe.each([AES_GCM, FERNET])('no plaintext fallback ($name)', (scheme) => {
    const shared = new MemoryStore();
    const logger = new RecordingLogger();
    let plainMemory: INestApplication;
    let encryptedMemory: INestApplication;
    let plainCookie: INestApplication;
    let encryptedCookie: INestApplication;
    const common = { secret: SECRET, cookie: { secure: false } };

    beforeAll(async () => {
      const encryptor = scheme.make([scheme.newKey()]);
      plainMemory = await startApp(sessionApp(`PlainMem${scheme.name}`, { ...common, store: shared, logger: false }), platform);
      encryptedMemory = await startApp(sessionApp(`EncMem${scheme.name}`, { ...common, store: shared, encryptor, logger }), platform);
      plainCookie = await startApp(sessionApp(`PlainCookie${scheme.name}`, { ...common, store: new CookieStore(), logger: false }), platform);
      encryptedCookie = await startApp(sessionApp(`EncCookie${scheme.name}`, { ...common, store: new CookieStore(), encryptor, logger }), platform);
    });
    afterAll(async () => {
      await Promise.all([plainMemory, encryptedMemory, plainCookie, encryptedCookie].map((app) => app?.close()));
    });

    it('MemoryStore: a record written unencrypted reads as an empty session in an app with an encryptor', async () => {
      const cookie = sessionCookie(await http(plainMemory).get('/count').expect(200, { count: 1 }))!;
      // Really stored in plaintext...
      expect(await sessionIn(shared, idOf(cookie)!)).toEqual({ count: 1 });
      logger.calls.length = 0;
      // ...and not read as such by the app with an encryptor.
      const res = await http(encryptedMemory).get('/peek').set('Cookie', cookie).expect(200, {});
      expect(setCookies(res).filter((c) => c.startsWith('sid='))).toEqual([]);
      await http(encryptedMemory).get('/count').set('Cookie', cookie).expect(200, { count: 1 });
      expect(logger.messages('error')).toEqual([]);
      // The plaintext app still reads it.
      await http(plainMemory).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
    });

    it('CookieStore: a plaintext cookie (correctly signed: same secret) reads as an empty session in an app with an encryptor', async () => {
      const cookie = sessionCookie(await http(plainCookie).get('/count').expect(200, { count: 1 }))!;
      expect(await sessionIn(new CookieStore(), cookieStoreId(cookie))).toEqual({ count: 1 });
      await http(encryptedCookie).get('/peek').set('Cookie', cookie).expect(200, {});
      await http(encryptedCookie).get('/count').set('Cookie', cookie).expect(200, { count: 1 });
      // The plaintext app still reads it.
      await http(plainCookie).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
    });
  });
});
