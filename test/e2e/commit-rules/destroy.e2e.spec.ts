import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore, parseSetCookie, sidLines, stored } from './fixtures.js';

@Controller('destroy')
class DestroyController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { ...session };
  }
  /** SPEC §10.4: no @Session() here, the session is never loaded. */
  @Get('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { loggedOut: true, loaded: this.sessions.isLoaded(req) };
  }
  @Get('logout-loaded') async logoutLoaded(@Req() req: unknown, @Session() session: SessionData) {
    const before = { ...session };
    await this.sessions.destroy(req);
    return { before, after: { ...session } };
  }
  @Get('logout-then-write') async logoutThenWrite(@Req() req: unknown, @Session() session: SessionData) {
    await this.sessions.destroy(req);
    session.flash = 'goodbye';
    return { ok: true };
  }
  @Get('logout-unloaded-then-write') async logoutUnloadedThenWrite(@Req() req: unknown) {
    await this.sessions.destroy(req);
    const session = await this.sessions.load(req);
    session.flash = 'goodbye';
    return { ok: true };
  }
  @Get('logout-twice') async logoutTwice(@Req() req: unknown) {
    await this.sessions.destroy(req);
    await this.sessions.destroy(req);
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [DestroyController],
  })
  class DestroyAppModule {}
  return { store, DestroyAppModule };
}

function expectClearing(res: { headers: Record<string, unknown> }) {
  const lines = sidLines(res);
  expect(lines).toHaveLength(1);
  const clearing = parseSetCookie(lines[0]);
  expect(clearing.value).toBe('');
  expect(clearing.attrs['max-age']).toBe('0');
  expect(new Date(String(clearing.attrs.expires)).getTime()).toBe(0);
}

describe.each(PLATFORMS)('commit rules: destroy (%s)', (platform) => {
  const { store, DestroyAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  let oldId: string;
  beforeAll(async () => {
    app = await startApp(DestroyAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(async () => {
    cookie = sessionCookie(await http(app).get('/destroy/seed').expect(200))!;
    oldId = idOf(cookie)!;
    store.resetCalls();
  });

  it('on a route that never loaded the session: record removed, cookie cleared', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/destroy/logout').set('Cookie', cookie).expect(200);
    expect(res.body.loggedOut).toBe(true);
    expect(await stored(store, oldId)).toBeNull();
    expect(store.size).toBe(sizeBefore - 1);
    expect(store.persistingCalls()).toBe(0);
    expectClearing(res);
  });

  it('on a loaded session: the data is emptied in place, record removed, cookie cleared', async () => {
    const res = await http(app).get('/destroy/logout-loaded').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({ before: { user: 'ada' }, after: {} });
    expect(await stored(store, oldId)).toBeNull();
    expect(store.persistingCalls()).toBe(0);
    expectClearing(res);
  });

  it('the destroyed cookie no longer loads anything', async () => {
    await http(app).get('/destroy/logout').set('Cookie', cookie).expect(200);
    await http(app).get('/destroy/read').set('Cookie', cookie).expect(200, {});
  });

  it.each(['logout-then-write', 'logout-unloaded-then-write'])(
    '%s: data written after destroy goes to a NEW id; the old record is gone',
    async (route) => {
      const sizeBefore = store.size;
      const res = await http(app).get(`/destroy/${route}`).set('Cookie', cookie).expect(200);
      const lines = sidLines(res);
      const newId = idOf(sessionCookie(res));
      expect(newId).toBeDefined();
      expect(newId).not.toBe(oldId);
      // The old user's data does not travel into the new session.
      expect(await stored(store, newId)).toEqual({ flash: 'goodbye' });
      expect(await stored(store, oldId)).toBeNull();
      expect(store.size).toBe(sizeBefore);
      // The browser ends up with the new cookie, not a cleared one.
      expect(parseSetCookie(lines[lines.length - 1]).attrs['max-age']).not.toBe('0');
    },
  );

  it('destroying twice in one request is harmless', async () => {
    const res = await http(app).get('/destroy/logout-twice').set('Cookie', cookie).expect(200);
    expect(await stored(store, oldId)).toBeNull();
    expectClearing(res);
  });

  it('destroy without any cookie: 2xx, nothing removed, no session cookie set', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/destroy/logout').expect(200);
    expect(store.size).toBe(sizeBefore);
    expect(setCookies(res).filter((c) => c.startsWith('sid=') && !/Max-Age=0/i.test(c))).toEqual([]);
  });
});
