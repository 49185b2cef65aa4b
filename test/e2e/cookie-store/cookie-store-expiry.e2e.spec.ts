/**
 * CookieStore expiry is embedded in the (encrypted) cookie and checked on the server, so a client
 * that ignores Max-Age and replays an old cookie gets nothing (starsessions' CookieStore session
 * lived forever). With `rolling`, every request that loads the session re-issues the cookie with
 * a moved idle deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication, type Type } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AesGcmEncryptor, CookieStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, sessionCookie, setCookies, sleep, startApp } from '../../support/session-app.js';
import { cookieSession, maxAgeOf } from './cookie-support.js';

const KEY = randomBytes(32);
const encryptor = new AesGcmEncryptor(KEY);

@Controller()
class ExpiryController {
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
}

function cookieApp(name: string, options: { lifetime: number; rolling: boolean }): Type {
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store: new CookieStore(),
        encryptor: new AesGcmEncryptor(KEY),
        cookie: { secure: false },
        logger: false,
        ...options,
      }),
    ],
    controllers: [ExpiryController],
  })
  class FixtureModule {}
  Object.defineProperty(FixtureModule, 'name', { value: name });
  return FixtureModule;
}

const sidLine = (res: { headers: Record<string, unknown> }) => setCookies(res).find((c) => c.startsWith('sid='));

describe.each(PLATFORMS)('CookieStore expiry, fixed lifetime: 1 s (%s)', (platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(cookieApp('FixedCookieApp', { lifetime: 1, rolling: false }), platform);
  });
  afterAll(async () => {
    await app.close();
  });

  it('a replayed cookie is empty after its lifetime even though the client ignored Max-Age', async () => {
    const created = await http(app).get('/count').expect(200, { count: 1 });
    const cookie = sessionCookie(created)!;
    expect(maxAgeOf(sidLine(created))).toBe(1);
    // Within the lifetime it works, and a read-only request sends no cookie (fixed expiry).
    const fresh = await http(app).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
    expect(sidLine(fresh)).toBeUndefined();

    await sleep(2200);
    const replay = await http(app).get('/peek').set('Cookie', cookie);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({});
    // If anything is sent for the session cookie, it can only be a clearing cookie.
    const line = sidLine(replay);
    if (line !== undefined) expect(maxAgeOf(line)).toBe(0);
    await http(app).get('/count').set('Cookie', cookie).expect(200, { count: 1 });
  });
});

describe.each(PLATFORMS)('CookieStore expiry, rolling: true, lifetime: 2 s (%s)', (platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(cookieApp('RollingCookieApp', { lifetime: 2, rolling: true }), platform);
  });
  afterAll(async () => {
    await app.close();
  });

  it('a read-only request re-issues the cookie with a new value and a later idle deadline, checked on the server', async () => {
    const first = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    await sleep(1200);

    const touched = await http(app).get('/peek').set('Cookie', first).expect(200, { count: 1 });
    const second = sessionCookie(touched);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(maxAgeOf(sidLine(touched))).toBe(2);
    expect(await cookieSession(second!, encryptor)).toEqual({ count: 1 });

    await sleep(1200);
    // 2.4 s after creation, 1.2 s after the last request: the re-issued cookie is alive...
    await http(app).get('/peek').set('Cookie', second!).expect(200, { count: 1 });
    // ...while the original cookie, idle for 2.4 s, is refused by the server.
    await http(app).get('/peek').set('Cookie', first).expect(200, {});
  });
});
