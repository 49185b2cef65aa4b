/**
 * Encryption key rotation through the HTTP app, for both encryptors and both kinds of store:
 * an app configured with [keyB, keyA] reads what an app with [keyA] wrote and, when it writes,
 * encrypts with keyB only. An app that has no key for the data gets an empty session (2xx).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { CookieStore, MemoryStore, type SessionStore } from '../../../src/index.js';
import { RecordingLogger, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { AES_GCM, FERNET, decrypts, envelopeJson, sessionApp, splitCookie, type EncryptionScheme } from './encryption-support.js';

interface StorageKind {
  name: string;
  /** The store for one app; server-side kinds share one instance between the apps. */
  store(): SessionStore;
  /** The bytes kept for the session the cookie names. */
  stored(cookie: string): Promise<Uint8Array>;
}

function memoryKind(): StorageKind {
  const shared = new MemoryStore();
  return {
    name: 'MemoryStore (shared instance)',
    store: () => shared,
    stored: async (cookie) => {
      const bytes = await shared.read(idOf(cookie)!);
      if (!bytes) throw new Error('no record for this cookie');
      return bytes;
    },
  };
}

function cookieKind(): StorageKind {
  return {
    name: 'CookieStore (same cookie)',
    store: () => new CookieStore(),
    stored: async (cookie) => Buffer.from(splitCookie(cookie).value, 'base64url'),
  };
}

const combos: [string, EncryptionScheme, () => StorageKind][] = [
  ['AesGcmEncryptor + MemoryStore', AES_GCM, memoryKind],
  ['AesGcmEncryptor + CookieStore', AES_GCM, cookieKind],
  ['FernetEncryptor + MemoryStore', FERNET, memoryKind],
  ['FernetEncryptor + CookieStore', FERNET, cookieKind],
];

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
    appA = await startApp(sessionApp(`KeyA${tag}`, { ...options, store: kind.store(), encryptor: scheme.make([keyA]), logger: false }));
    appBA = await startApp(sessionApp(`KeyBA${tag}`, { ...options, store: kind.store(), encryptor: scheme.make([keyB, keyA]), logger: false }));
    appB = await startApp(sessionApp(`KeyB${tag}`, { ...options, store: kind.store(), encryptor: scheme.make([keyB]), logger: onlyBLogger }));
  });
  afterAll(async () => {
    await Promise.all([appA, appBA, appB].map((app) => app?.close()));
  });

  async function writtenUnderKeyA(): Promise<string> {
    const cookie = sessionCookie(await http(appA).get('/count').expect(200, { count: 1 }))!;
    const bytes = await kind.stored(cookie);
    expect(decrypts(scheme.make([keyA]), bytes)).toBe(true);
    expect(decrypts(scheme.make([keyB]), bytes)).toBe(false);
    return cookie;
  }

  it('an app with [keyB, keyA] reads a session written under keyA', async () => {
    const cookie = await writtenUnderKeyA();
    const res = await http(appBA).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
    // Fixed expiry, read-only: nothing to re-send.
    expect(setCookies(res).filter((c) => c.startsWith('sid='))).toEqual([]);
  });

  it('when the [keyB, keyA] app writes, the stored bytes decrypt with keyB only', async () => {
    const cookie = await writtenUnderKeyA();
    const res = await http(appBA).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
    const rewritten = sessionCookie(res)!;
    expect(rewritten).toBeDefined();
    const bytes = await kind.stored(rewritten);
    const standaloneB = scheme.make([keyB]);
    expect(decrypts(standaloneB, bytes)).toBe(true);
    expect(JSON.parse(envelopeJson(standaloneB.decrypt(bytes)))).toEqual({ count: 2 });
    expect(decrypts(scheme.make([keyA]), bytes)).toBe(false);
    // The keyA-only app can no longer read it: the data really moved to keyB.
    await http(appA).get('/peek').set('Cookie', rewritten).expect(200, {});
    await http(appB).get('/peek').set('Cookie', rewritten).expect(200, { count: 2 });
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
    // The keyA app still reads its own session: nothing was overwritten by the failed read.
    await http(appA).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
  });
});
