import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore, parseSetCookie, sidLines, stored } from './fixtures.js';

@Controller('app')
class EmptiedSessionController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = ['apple'];
    return { ok: true };
  }
  @Get('clear') clear(@Session() session: SessionData) {
    for (const key of Object.keys(session)) delete session[key];
    return { cleared: true };
  }
  @Get('clear-one') clearOne(@Session() session: SessionData) {
    delete session.cart;
    return { ok: true };
  }
  /** JSON drops undefined values: the serializer documents this as the way to unset a key. */
  @Get('unset-all') unsetAll(@Session() session: SessionData) {
    for (const key of Object.keys(session)) session[key] = undefined;
    return { ok: true };
  }
  @Get('new-undefined') newUndefined(@Session() session: SessionData) {
    session.user = undefined;
    return { ok: true };
  }
}

/** Every attribute configured, none at its default, so the clearing cookie must repeat them. */
const cookieOptions = {
  secure: true,
  httpOnly: true,
  sameSite: 'none' as const,
  domain: 'example.test',
  path: '/app',
  partitioned: true,
  priority: 'high' as const,
};

function fixture() {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: cookieOptions, logger: false })],
    controllers: [EmptiedSessionController],
  })
  class EmptiedSessionAppModule {}
  return { store, EmptiedSessionAppModule };
}

describe.each(PLATFORMS)('commit rules: a session that had data and is now empty (%s)', (platform) => {
  const { store, EmptiedSessionAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  let setLine: string;
  beforeAll(async () => {
    app = await startApp(EmptiedSessionAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(async () => {
    const seed = await http(app).get('/app/seed').expect(200);
    setLine = sidLines(seed)[0];
    cookie = sessionCookie(seed)!;
    store.resetCalls();
  });

  it('deleting every key removes the record and clears the cookie', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/app/clear').set('Cookie', cookie).expect(200, { cleared: true });
    expect(await stored(store, idOf(cookie))).toBeNull();
    expect(store.size).toBe(sizeBefore - 1);
    expect(store.calls.remove).toBe(1);
    expect(store.persistingCalls()).toBe(0);
    const lines = sidLines(res);
    expect(lines).toHaveLength(1);
    const clearing = parseSetCookie(lines[0]);
    expect(clearing.value).toBe('');
    expect(clearing.attrs['max-age']).toBe('0');
    expect(new Date(String(clearing.attrs.expires)).getTime()).toBe(0);
  });

  it('the clearing cookie repeats Path, Domain, HttpOnly, Secure, SameSite, Partitioned and Priority', async () => {
    const res = await http(app).get('/app/clear').set('Cookie', cookie).expect(200);
    const set = parseSetCookie(setLine).attrs;
    const clearing = parseSetCookie(sidLines(res)[0]).attrs;
    // Sanity: the set cookie carries every configured attribute.
    expect(set).toMatchObject({ path: '/app', domain: 'example.test', httponly: true, secure: true, partitioned: true });
    expect(String(set.samesite).toLowerCase()).toBe('none');
    expect(String(set.priority).toLowerCase()).toBe('high');
    const ATTRIBUTES = ['path', 'domain', 'httponly', 'secure', 'samesite', 'partitioned', 'priority'];
    const pick = (attrs: Record<string, string | true>) =>
      Object.fromEntries(ATTRIBUTES.map((n) => [n, typeof attrs[n] === 'string' ? String(attrs[n]).toLowerCase() : attrs[n]]));
    expect(pick(clearing)).toEqual(pick(set));
  });

  it('the emptied session is gone: the old cookie now gives a fresh session', async () => {
    await http(app).get('/app/clear').set('Cookie', cookie).expect(200);
    const res = await http(app).get('/app/seed').set('Cookie', cookie).expect(200);
    expect(idOf(sessionCookie(res))).not.toBe(idOf(cookie));
  });

  it('deleting only some keys updates the record instead', async () => {
    const res = await http(app).get('/app/clear-one').set('Cookie', cookie).expect(200);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
    expect(parseSetCookie(sidLines(res)[0]).attrs['max-age']).not.toBe('0');
  });

  // Regression guard: emptiness must be judged on what would be stored, not on the live object's
  // keys (`for…in`). Setting every key to
  // `undefined` — which the JSON serializer documents as "how unset this key is expected to
  // work" — leaves keys in the object, so an empty `{}` record is written and the cookie re-sent
  // instead of the record being removed and the cookie cleared (SPEC §4).
  it('unsetting every key with `= undefined` also removes the record and clears the cookie', async () => {
    const res = await http(app).get('/app/unset-all').set('Cookie', cookie).expect(200);
    expect(await stored(store, idOf(cookie))).toBeNull();
    expect(parseSetCookie(sidLines(res)[0]).attrs['max-age']).toBe('0');
  });

  it('a new session whose only key is undefined stays empty: no write, no cookie', async () => {
    const sizeBefore = store.size;
    const res = await http(app).get('/app/new-undefined').expect(200);
    expect(setCookies(res)).toEqual([]);
    expect(store.size).toBe(sizeBefore);
  });
});
