/**
 * CookieStore without an encryptor: the data is signed but readable by the client, and the
 * module says so once, at startup, at `warn` level (SPEC §5, §10.12).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { CookieStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';
import { cookieBytes, cookieSession, dataPart } from './cookie-support.js';

@Controller()
class PlainController {
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
}

/** A fresh module (with its own CookieStore) logging to `logger`. */
function plainCookieApp(logger: RecordingLogger) {
  @Module({
    imports: [
      SessionModule.forRoot({ secret: SECRET, store: new CookieStore(), cookie: { secure: false }, logger }),
    ],
    controllers: [PlainController],
  })
  class PlainCookieApp {}
  return PlainCookieApp;
}

describe.each(PLATFORMS)('CookieStore without an encryptor (%s)', (platform) => {
  const logger = new RecordingLogger();
  const aboutEncryptor = () => logger.calls.filter((c) => /encryptor/i.test(c.message));
  let app: INestApplication;
  let atStartup: { level: string; message: string }[];

  beforeAll(async () => {
    expect(aboutEncryptor()).toEqual([]);
    app = await startApp(plainCookieApp(logger), platform);
    atStartup = aboutEncryptor().map((c) => ({ ...c }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('warns exactly once, at startup (after init, before any request), at warn level', async () => {
    expect(atStartup).toHaveLength(1);
    expect(atStartup[0]!.level).toBe('warn');
    expect(atStartup[0]!.message).toMatch(/CookieStore/);
    const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    await http(app).get('/count').set('Cookie', cookie).expect(200);
    await http(app).get('/peek').set('Cookie', cookie).expect(200);
    expect(aboutEncryptor()).toEqual(atStartup);
  });

  it('the data is readable: the base64url part before the "." decodes to the record with the JSON', async () => {
    const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
    const decoded = cookieBytes(cookie);
    expect(decoded.toString('utf8')).toContain('{"count":1}');
    expect(await cookieSession(cookie)).toEqual({ count: 1 });
    expect(dataPart(cookie)).toMatch(/^[A-Za-z0-9_-]+$/);
    // Readable, but still signed: the counter continues only with the untouched cookie.
    await http(app).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
  });
});
