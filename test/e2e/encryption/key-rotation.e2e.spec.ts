/**
 * Encryption key rotation through the HTTP app, for both encryptors and both kinds of store:
 * an app configured with [keyB, keyA] reads what an app with [keyA] wrote and, when it writes,
 * leaves only bytes that decrypt with keyB. An app that has no key for the data gets an empty
 * session (2xx), never an error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { CookieStore, MemoryStore, type Encryptor, type SessionData, type SessionStore } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import {
  AES_GCM,
  FERNET,
  cookieStoreId,
  decrypts,
  sessionApp,
  sessionIn,
  splitCookie,
  storedChunks,
  type EncryptionScheme,
} from './encryption-support.js';

interface StorageKind {
  name: string;
  /** The store for one app; server-side kinds share one instance between the apps. */
  store(): SessionStore;
  /** Every stored byte chunk of the session the cookie names. */
  chunks(cookie: string): Promise<Uint8Array[]>;
  /** The session the cookie names, decoded with `encryptor` (null: not decodable with it). */
  data(cookie: string, encryptor: Encryptor): Promise<SessionData | null>;
}

function memoryKind(): StorageKind {
  const shared = new MemoryStore();
  return {
    name: 'MemoryStore (shared instance)',
    store: () => shared,
    chunks: (cookie) => storedChunks(shared, idOf(cookie)!),
    data: (cookie, encryptor) => sessionIn(shared, idOf(cookie)!, encryptor),
  };
}

function cookieKind(): StorageKind {
  const reader = new CookieStore();
  return {
    name: 'CookieStore (same cookie)',
    store: () => new CookieStore(),
    chunks: (cookie) => storedChunks(reader, cookieStoreId(cookie)),
    data: (cookie, encryptor) => sessionIn(reader, cookieStoreId(cookie), encryptor),
  };
}

const combos: [string, EncryptionScheme, () => StorageKind][] = [
  ['AesGcmEncryptor + MemoryStore', AES_GCM, memoryKind],
  ['AesGcmEncryptor + CookieStore', AES_GCM, cookieKind],
  ['FernetEncryptor + MemoryStore', FERNET, memoryKind],
  ['FernetEncryptor + CookieStore', FERNET, cookieKind],
];

describe.each(PLATFORMS)('key rotation (%s)', (platform) => {
  describe.each(combos)('key rotation: %s', (label, scheme, makeKind) => {
    const keyA = scheme.newKey();
    const keyB = scheme.newKey();
    const kind = makeKind();
    const onlyBLogger = new RecordingLogger();
    let appA: INestApplication; // [keyA]
    let appBA: INestApplication; // [keyB, keyA]
    let appB: INestApplication; // [keyB]
    const tag = label.replace(/\W+/g, '');

    beforeAll(async () => {
      const options = { secret: SECRET, cookie: { secure: false } };
      appA = await startApp(sessionApp(`KeyA${tag}`, { ...options, store: kind.store(), encryptor: scheme.make([keyA]), logger: false }), platform);
      appBA = await startApp(sessionApp(`KeyBA${tag}`, { ...options, store: kind.store(), encryptor: scheme.make([keyB, keyA]), logger: false }), platform);
      appB = await startApp(sessionApp(`KeyB${tag}`, { ...options, store: kind.store(), encryptor: scheme.make([keyB]), logger: onlyBLogger }), platform);
    });
    afterAll(async () => {
      await Promise.all([appA, appBA, appB].map((app) => app?.close()));
    });

    /** Every stored chunk decrypts with `good` (standalone) and none with `bad`. */
    async function expectOnlyKey(cookie: string, good: string | Buffer, bad: string | Buffer): Promise<void> {
      const chunks = await kind.chunks(cookie);
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.map((c) => decrypts(scheme.make([good]), c))).toEqual(chunks.map(() => true));
      expect(chunks.map((c) => decrypts(scheme.make([bad]), c))).toEqual(chunks.map(() => false));
    }

    async function writtenUnderKeyA(path = '/count'): Promise<string> {
      const cookie = sessionCookie(await http(appA).get(path).expect(200))!;
      await expectOnlyKey(cookie, keyA, keyB);
      return cookie;
    }

    it('an app with [keyB, keyA] reads a session written under keyA', async () => {
      const cookie = await writtenUnderKeyA();
      expect(await kind.data(cookie, scheme.make([keyA]))).toEqual({ count: 1 });
      const res = await http(appBA).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
      // Fixed expiry, read-only: nothing to re-send.
      expect(setCookies(res).filter((c) => c.startsWith('sid='))).toEqual([]);
    });

    it('when the [keyB, keyA] app writes, the stored bytes decrypt with (standalone) keyB only', async () => {
      const cookie = await writtenUnderKeyA();
      const res = await http(appBA).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      const rewritten = sessionCookie(res)!;
      expect(rewritten).toBeDefined();
      await expectOnlyKey(rewritten, keyB, keyA);
      expect(await kind.data(rewritten, scheme.make([keyB]))).toEqual({ count: 2 });
      expect(await kind.data(rewritten, scheme.make([keyA]))).toBeNull();
      // The keyA-only app can no longer read it; the keyB-only app can.
      await http(appA).get('/peek').set('Cookie', rewritten).expect(200, {});
      await http(appB).get('/peek').set('Cookie', rewritten).expect(200, { count: 2 });
    });

    it('a write that changes one key of two still leaves nothing readable with keyA only', async () => {
      const cookie = await writtenUnderKeyA('/two');
      expect(await kind.data(cookie, scheme.make([keyA]))).toEqual({ count: 1, note: 'kept as is' });
      const res = await http(appBA).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      const rewritten = sessionCookie(res)!;
      expect(rewritten).toBeDefined();
      await expectOnlyKey(rewritten, keyB, keyA);
      expect(await kind.data(rewritten, scheme.make([keyB]))).toEqual({ count: 2, note: 'kept as is' });
      // Retiring keyA after this write loses nothing.
      await http(appB).get('/peek').set('Cookie', rewritten).expect(200, { count: 2, note: 'kept as is' });
    });

    it('an app with only keyB reading keyA data gets an empty session (2xx), never an error', async () => {
      const cookie = await writtenUnderKeyA();
      onlyBLogger.calls.length = 0;
      const peek = await http(appB).get('/peek').set('Cookie', cookie).expect(200, {});
      expect(setCookies(peek).filter((c) => c.startsWith('sid='))).toEqual([]);
      const count = await http(appB).get('/count').set('Cookie', cookie).expect(200, { count: 1 });
      const fresh = sessionCookie(count)!;
      expect(fresh).toBeDefined();
      expect(splitCookie(fresh).value).not.toBe(splitCookie(cookie).value); // never the old ID/data
      expect(onlyBLogger.messages('error')).toEqual([]);
      expect(onlyBLogger.messages('warn').some((m) => /decrypt/i.test(m))).toBe(true);
      // The keyA app still reads its own session: the failed read overwrote nothing.
      await http(appA).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
    });
  });
});
