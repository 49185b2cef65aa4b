import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { SpyStore, gate, parseSetCookie, sidLines, stored } from './fixtures.js';

/** Route A parks here after loading the session, until the test releases it. */
let reached = gate();
let release = gate();

@Controller('race')
class RaceController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = [];
    return { ok: true };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { ...session };
  }
  /** A: loads the session, waits, then modifies it. */
  @Get('slow-modify') async slowModify(@Session() session: SessionData) {
    reached.open();
    await release.promise;
    (session.cart as string[]).push('late item');
    return { ok: true };
  }
  /** A: loads the session, waits, then only reads it. */
  @Get('slow-read') async slowRead(@Session() session: SessionData) {
    reached.open();
    await release.promise;
    return { user: session.user };
  }
  /** A: loads the session, waits, then regenerates it (say, a step-up login). */
  @Get('slow-regenerate') async slowRegenerate(@Req() req: unknown, @Session() session: SessionData) {
    reached.open();
    await release.promise;
    await this.sessions.regenerate(req);
    session.elevated = true;
    return { ok: true };
  }
  /** B: logout. */
  @Get('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { loggedOut: true };
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [RaceController],
  })
  class RaceAppModule {}
  return { store, RaceAppModule };
}

describe.each(PLATFORMS)('commit rules: a destroyed session is not brought back by a slower concurrent request (%s)', (platform) => {
  const { store, RaceAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  let id: string;
  beforeAll(async () => {
    app = await startApp(RaceAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(async () => {
    reached = gate();
    release = gate();
    cookie = sessionCookie(await http(app).get('/race/seed').expect(200))!;
    id = idOf(cookie)!;
  });

  /** Runs A up to its pause, B to completion, then releases A; returns both responses. */
  async function race(routeA: string) {
    const pendingA = http(app).get(`/race/${routeA}`).set('Cookie', cookie).then((res) => res);
    await reached.promise;
    const resB = await http(app).get('/race/logout').set('Cookie', cookie).expect(200, { loggedOut: true });
    expect(await stored(store, id)).toBeNull();
    const sizeAfterLogout = store.size;
    release.open();
    const resA = await pendingA;
    return { resA, resB, sizeAfterLogout };
  }

  /** No Set-Cookie on A's response may carry a live session cookie. */
  function expectNoLiveSessionCookie(res: { headers: Record<string, unknown> }) {
    for (const line of sidLines(res)) expect(parseSetCookie(line).attrs['max-age']).toBe('0');
  }

  it('A modifies after B destroyed: the store does not hold the id again, A sends no reviving cookie', async () => {
    const { resA, resB, sizeAfterLogout } = await race('slow-modify');
    expect(sidLines(resB)).toHaveLength(1);
    expect(resA.status).toBe(200);
    expect(await stored(store, id)).toBeNull();
    expect(store.size).toBe(sizeAfterLogout);
    expectNoLiveSessionCookie(resA);
    // The old cookie stays dead.
    await http(app).get('/race/read').set('Cookie', cookie).expect(200, {});
  });

  it('A only reads after B destroyed: nothing is written back', async () => {
    const { resA, sizeAfterLogout } = await race('slow-read');
    expect(resA.status).toBe(200);
    expect(resA.body).toEqual({ user: 'ada' });
    expect(await stored(store, id)).toBeNull();
    expect(store.size).toBe(sizeAfterLogout);
    expectNoLiveSessionCookie(resA);
  });

  // Regression guard: a regenerated session is written as a create under the new id, with the
  // data A loaded before B's logout. Unless the commit checks that the record A loaded still
  // exists (the plan's `movedFrom`), the logged-out user's data ({ user: 'ada' }) comes back
  // under a new id with a live cookie: the logout is undone. SPEC §4: "A session destroyed by one request is never brought back by a
  // slower concurrent request that loaded it earlier."
  it('A regenerates after B destroyed: the destroyed data does not come back under a new id', async () => {
    const { resA } = await race('slow-regenerate');
    expect(resA.status).toBeLessThan(500);
    // Whatever A sends, a live cookie from it must not lead back to the logged-out user's data.
    for (const line of sidLines(resA)) {
      if (parseSetCookie(line).attrs['max-age'] === '0') continue;
      const newId = idOf(line.split(';')[0]);
      expect(newId).not.toBe(id);
      expect((await stored(store, newId)) ?? {}).not.toHaveProperty('user');
    }
  });
});
