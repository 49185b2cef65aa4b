import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { RegenerateSession, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore, stored } from '../commit-rules/fixtures.js';

@Controller('anon')
class AnonymousController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('visit') visit(@Session() session: SessionData) {
    const seen = { ...session };
    session.visited = true;
    return { seen };
  }
  @Get('login') @RegenerateSession() login(@Session() session: SessionData) {
    session.user = 'grace';
    return { ok: true };
  }
  @Get('rotate') async rotate(@Req() req: unknown) {
    await this.sessions.regenerate(req);
    this.sessions.get(req).rotated = true;
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  const logger = new RecordingLogger();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger, storeFailure: 'anonymous' })],
    controllers: [AnonymousController],
  })
  class ReadFailureAnonymousAppModule {}
  return { store, logger, ReadFailureAnonymousAppModule };
}

describe.each(PLATFORMS)("bad input: a store whose read fails, storeFailure 'anonymous' (%s)", (platform) => {
  const { store, logger, ReadFailureAnonymousAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  beforeAll(async () => {
    app = await startApp(ReadFailureAnonymousAppModule, platform);
    cookie = sessionCookie(await http(app).get('/anon/seed').expect(200))!;
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => {
    store.resetCalls();
    store.failing.add('read');
    logger.calls.length = 0;
  });

  it('2xx, the handler sees an empty session, no Set-Cookie at all, nothing written', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/anon/visit').set('Cookie', cookie).expect(200, { seen: {} });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(store.calls.read).toBe(1);
    expect(store.persistingCalls()).toBe(0);
    expect(store.calls.remove).toBe(0);
    expect(store.size).toBe(sizeBefore);
    // The user's record survives the outage untouched, and so does their cookie.
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it.each(['login', 'rotate'])('%s: regenerating an anonymous session writes, removes and sends nothing', async (route) => {
    const sizeBefore = store.size;
    const res = await http(app).get(`/anon/${route}`).set('Cookie', cookie).expect(200);
    expect(setCookies(res)).toEqual([]);
    expect(store.persistingCalls() + store.calls.remove).toBe(0);
    expect(store.size).toBe(sizeBefore);
    expect(await stored(store, idOf(cookie))).toMatchObject({ user: 'ada' });
  });

  it('the failure is logged, without the session ID', async () => {
    await http(app).get('/anon/visit').set('Cookie', cookie).expect(200);
    expect(logger.messages('error').some((m) => /store/i.test(m) && /read/i.test(m))).toBe(true);
    for (const message of logger.messages()) expect(message).not.toContain(idOf(cookie)!);
  });

  it('once the store is back, the same cookie loads the original session', async () => {
    await http(app).get('/anon/visit').set('Cookie', cookie).expect(200, { seen: {} });
    store.failing.clear();
    const res = await http(app).get('/anon/visit').set('Cookie', cookie).expect(200, { seen: { user: 'ada' } });
    expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
  });
});
