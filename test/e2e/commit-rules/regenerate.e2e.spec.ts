import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, UnauthorizedException, type INestApplication } from '@nestjs/common';
import { RegenerateSession, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore, parseSetCookie, sidLines, stored } from './fixtures.js';

@Controller('regen')
class RegenerateController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = ['apple'];
    return { ok: true };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { ...session };
  }
  @Get('rotate') async rotate(@Req() req: unknown) {
    await this.sessions.regenerate(req);
    return { ok: true };
  }
  @Get('rotate-and-change') async rotateAndChange(@Req() req: unknown, @Session() session: SessionData) {
    await this.sessions.regenerate(req);
    session.role = 'admin';
    return { ok: true };
  }
  @Get('rotate-twice') async rotateTwice(@Req() req: unknown) {
    await this.sessions.regenerate(req);
    await this.sessions.regenerate(req);
    return { ok: true };
  }
  @Get('rotate-then-clear') async rotateThenClear(@Req() req: unknown, @Session() session: SessionData) {
    await this.sessions.regenerate(req);
    for (const key of Object.keys(session)) delete session[key];
    return { ok: true };
  }
  @Get('login') @RegenerateSession() login(@Session() session: SessionData) {
    session.user = 'grace';
    return { ok: true };
  }
  @Get('login-read-only') @RegenerateSession() loginReadOnly(@Session('user') user: unknown) {
    return { user };
  }
  @Get('login-401') @RegenerateSession() login401(@Session() session: SessionData) {
    session.attempts = ((session.attempts as number) ?? 0) + 1;
    throw new UnauthorizedException();
  }
  @Get('login-500') @RegenerateSession() login500(@Session() session: SessionData) {
    session.user = 'mallory';
    throw new Error('database down');
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [RegenerateController],
  })
  class RegenerateAppModule {}
  return { store, RegenerateAppModule };
}

describe.each(PLATFORMS)('commit rules: regenerate (%s)', (platform) => {
  const { store, RegenerateAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  let oldId: string;
  beforeAll(async () => {
    app = await startApp(RegenerateAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(async () => {
    cookie = sessionCookie(await http(app).get('/regen/seed').expect(200))!;
    oldId = idOf(cookie)!;
    store.resetCalls();
  });

  it('sessionService.regenerate keeps the data under a new id and removes the old record', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/rotate').set('Cookie', cookie).expect(200);
    const newCookie = sessionCookie(res)!;
    const newId = idOf(newCookie)!;
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    expect(await stored(store, newId)).toEqual({ user: 'ada', cart: ['apple'] });
    expect(await stored(store, oldId)).toBeNull();
    expect(store.size).toBe(sizeBefore);
    // The new cookie loads the data; the old one gives a fresh, empty session.
    await http(app).get('/regen/read').set('Cookie', newCookie).expect(200, { user: 'ada', cart: ['apple'] });
    await http(app).get('/regen/read').set('Cookie', cookie).expect(200, {});
  });

  it('changes made after regenerate are saved under the new id', async () => {
    const res = await http(app).get('/regen/rotate-and-change').set('Cookie', cookie).expect(200);
    const newId = idOf(sessionCookie(res));
    expect(newId).not.toBe(oldId);
    expect(await stored(store, newId)).toEqual({ user: 'ada', cart: ['apple'], role: 'admin' });
    expect(await stored(store, oldId)).toBeNull();
  });

  it('regenerating twice in one request leaves exactly one record', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/rotate-twice').set('Cookie', cookie).expect(200);
    expect(sidLines(res)).toHaveLength(1);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ user: 'ada', cart: ['apple'] });
    expect(await stored(store, oldId)).toBeNull();
    expect(store.size).toBe(sizeBefore);
  });

  it('regenerate then clear leaves no orphan record and clears the cookie', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/rotate-then-clear').set('Cookie', cookie).expect(200);
    expect(await stored(store, oldId)).toBeNull();
    expect(store.size).toBe(sizeBefore - 1);
    expect(store.persistingCalls()).toBe(0);
    const lines = sidLines(res);
    expect(lines).toHaveLength(1);
    expect(parseSetCookie(lines[0]).attrs['max-age']).toBe('0');
  });

  it('@RegenerateSession(): a successful handler gets a new id; data kept, old record removed', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/login').set('Cookie', cookie).expect(200);
    const newId = idOf(sessionCookie(res));
    expect(newId).not.toBe(oldId);
    expect(await stored(store, newId)).toEqual({ user: 'grace', cart: ['apple'] });
    expect(await stored(store, oldId)).toBeNull();
    expect(store.size).toBe(sizeBefore);
  });

  it('@RegenerateSession() on a read-only handler still rotates the id', async () => {
    const res = await http(app).get('/regen/login-read-only').set('Cookie', cookie).expect(200, { user: 'ada' });
    const newId = idOf(sessionCookie(res));
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    expect(await stored(store, newId)).toEqual({ user: 'ada', cart: ['apple'] });
    expect(await stored(store, oldId)).toBeNull();
  });

  it('@RegenerateSession(): a handler that throws 4xx keeps the id; its change is saved under it', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/login-401').set('Cookie', cookie).expect(401);
    // Changed data re-sends the cookie (SPEC §10.2), under the same id.
    expect(sidLines(res)).toHaveLength(1);
    expect(idOf(sessionCookie(res))).toBe(oldId);
    expect(await stored(store, oldId)).toEqual({ user: 'ada', cart: ['apple'], attempts: 1 });
    expect(store.size).toBe(sizeBefore);
    expect(store.calls.remove).toBe(0);
  });

  it('@RegenerateSession(): a handler that throws 500 changes nothing', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/login-500').set('Cookie', cookie).expect(500);
    expect(setCookies(res)).toEqual([]);
    expect(await stored(store, oldId)).toEqual({ user: 'ada', cart: ['apple'] });
    expect(store.size).toBe(sizeBefore);
    expect(store.calls.remove + store.persistingCalls()).toBe(0);
  });

  it('@RegenerateSession() without a prior session creates exactly one record', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/regen/login').expect(200);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ user: 'grace' });
    expect(store.size).toBe(sizeBefore + 1);
  });
});
