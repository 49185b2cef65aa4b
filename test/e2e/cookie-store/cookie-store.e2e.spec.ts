/**
 * CookieStore with the module's encryptor (AES-256-GCM): the cookie carries the whole session,
 * nothing is kept on the server, tampering gives a fresh empty session, and an oversized payload
 * fails with an error naming the size instead of a silently dropped cookie.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Query, type INestApplication, type Type } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AesGcmEncryptor, CookieStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { cookieBytes, cookieSession, dataPart, encodeForCookie, flipChar, sign } from './cookie-support.js';

const KEY = randomBytes(32);

@Controller()
class CookieController {
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
  @Get('big') big(@Session() session: SessionData, @Query('size') size: string) {
    // Random (incompressible, JSON-safe) text, so the cookie grows with the payload.
    session.blob = randomBytes(Number(size)).toString('base64url').slice(0, Number(size));
    return { ok: true };
  }
}

function cookieApp(name: string, logger: RecordingLogger): Type {
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store: new CookieStore(),
        encryptor: new AesGcmEncryptor(KEY),
        cookie: { secure: false },
        logger,
      }),
    ],
    controllers: [CookieController],
  })
  class FixtureModule {}
  Object.defineProperty(FixtureModule, 'name', { value: name });
  return FixtureModule;
}

const sid = (res: { headers: Record<string, unknown> }) => setCookies(res).filter((c) => c.startsWith('sid='));

describe.each(PLATFORMS)('CookieStore with an encryptor, through the HTTP app (%s)', (platform) => {
  const logger = new RecordingLogger();
  let app: INestApplication;

  beforeAll(async () => {
    app = await startApp(cookieApp('EncryptedCookieApp', logger), platform);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    logger.calls.length = 0;
  });

  it('does not warn about a missing encryptor', async () => {
    // Startup messages were recorded before beforeEach cleared them: check with a fresh app.
    const fresh = new RecordingLogger();
    const other = await startApp(cookieApp('EncryptedCookieApp2', fresh), platform);
    await other.close();
    expect(fresh.messages().filter((m) => /encryptor/i.test(m))).toEqual([]);
  });

  it('the counter works across requests, each response carrying the new data', async () => {
    let cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    expect(cookie).toBeDefined();
    for (let i = 2; i <= 4; i++) {
      const res = await http(app).get('/count').set('Cookie', cookie).expect(200, { count: i });
      const next = sessionCookie(res)!;
      expect(next).toBeDefined();
      expect(next).not.toBe(cookie);
      cookie = next;
    }
    await http(app).get('/peek').set('Cookie', cookie).expect(200, { count: 4 });
  });

  it('keeps no server state: the cookie alone carries the data, readable by another app instance with the same secret and key', async () => {
    const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    const twin = await startApp(cookieApp('EncryptedCookieTwin', new RecordingLogger()), platform);
    try {
      await http(twin).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
    } finally {
      await twin.close();
    }
    // The data is inside the cookie, encrypted with the module's key.
    expect(await cookieSession(cookie, new AesGcmEncryptor(KEY))).toEqual({ count: 1 });
    // Without the key, the cookie's bytes are not a session at all.
    expect(await cookieSession(cookie)).toBeNull();
    expect(await cookieSession(cookie, new AesGcmEncryptor(randomBytes(32)))).toBeNull();
  });

  it('the JSON is not visible in the cookie', async () => {
    const res = await http(app).get('/count').expect(200, { count: 1 });
    const cookie = sessionCookie(res)!;
    expect(cookie).not.toMatch(/count/);
    const bytes = cookieBytes(cookie).toString('latin1');
    expect(bytes).not.toContain('"count"');
    expect(bytes).not.toContain(':1}');
    // ...yet the module's key recovers it.
    expect(await cookieSession(cookie, new AesGcmEncryptor(KEY))).toEqual({ count: 1 });
  });

  it('a tampered cookie gives a fresh empty session (2xx), never an error', async () => {
    const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    const value = cookie.slice('sid='.length);
    const data = dataPart(cookie);
    const tampered = [
      `sid=${flipChar(value, Math.floor(data.length / 2))}`, // data changed, signature kept
      `sid=${flipChar(value, value.length - 5)}`, // signature changed
      `sid=${data}`, // signature removed
      `sid=${data}.${'A'.repeat(43)}`,
    ];
    for (const bad of tampered) {
      const peek = await http(app).get('/peek').set('Cookie', bad).expect(200, {});
      expect(sid(peek)).toEqual([]);
      const count = await http(app).get('/count').set('Cookie', bad).expect(200, { count: 1 });
      expect(sessionCookie(count)).toBeDefined();
    }
    // A correctly signed value whose bytes do not decrypt (forged without the key) is just as empty.
    const forged = `sid=${sign(encodeForCookie(randomBytes(80)), SECRET)}`;
    await http(app).get('/peek').set('Cookie', forged).expect(200, {});
    expect(logger.messages('warn').some((m) => /rejected session cookie/i.test(m))).toBe(true);
  });

  it('a payload over 4096 bytes answers an error status naming the size, and sends no session cookie', async () => {
    const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    // Under the limit, a large payload still works (the limit is not set too low).
    const fits = await http(app).get('/big?size=2000').set('Cookie', cookie).expect(200);
    const fitting = sid(fits);
    expect(fitting).toHaveLength(1);
    expect(fitting[0]!.length).toBeLessThan(4096 + 200);

    const res = await http(app).get('/big?size=5000').set('Cookie', cookie);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBe(500);
    expect(sid(res)).toEqual([]);
    const text = JSON.stringify(res.body);
    const size = Number(text.match(/(\d+) bytes/)?.[1]);
    expect(size).toBeGreaterThan(4096);
    expect(text).toMatch(/4096/);
    // Nothing changed for the client: its previous cookie still holds the previous data.
    await http(app).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
  });
});
