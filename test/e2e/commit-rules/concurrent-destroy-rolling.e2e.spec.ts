import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { SpyStore, gate, parseSetCookie, sidLines, stored } from './fixtures.js';

let reached = gate();
let release = gate();

@Controller('race-rolling')
class RollingRaceController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = [];
    return { ok: true };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { ...session };
  }
  @Get('slow-modify') async slowModify(@Session() session: SessionData) {
    reached.open();
    await release.promise;
    (session.cart as string[]).push('late item');
    return { ok: true };
  }
  /** With rolling, a read-only request refreshes the expiry (store touch): it must not recreate. */
  @Get('slow-read') async slowRead(@Session() session: SessionData) {
    reached.open();
    await release.promise;
    return { user: session.user };
  }
  @Get('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { loggedOut: true };
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, rolling: true, cookie: { secure: false }, logger: false })],
    controllers: [RollingRaceController],
  })
  class RollingRaceAppModule {}
  return { store, RollingRaceAppModule };
}

describe.each(PLATFORMS)('commit rules: a destroyed rolling session is not brought back by a slower concurrent request (%s)', (platform) => {
  const { store, RollingRaceAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  let id: string;
  beforeAll(async () => {
    app = await startApp(RollingRaceAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(async () => {
    reached = gate();
    release = gate();
    cookie = sessionCookie(await http(app).get('/race-rolling/seed').expect(200))!;
    id = idOf(cookie)!;
  });

  it.each(['slow-modify', 'slow-read'])('%s after the logout: the store never holds the id again', async (route) => {
    const pendingA = http(app).get(`/race-rolling/${route}`).set('Cookie', cookie).then((res) => res);
    await reached.promise;
    await http(app).get('/race-rolling/logout').set('Cookie', cookie).expect(200);
    expect(await stored(store, id)).toBeNull();
    const sizeAfterLogout = store.size;
    release.open();
    const resA = await pendingA;
    expect(resA.status).toBe(200);
    expect(await stored(store, id)).toBeNull();
    expect(store.size).toBe(sizeAfterLogout);
    // Any cookie A sent leads to a fresh, empty session, never back to the logged-out one.
    for (const line of sidLines(resA)) {
      if (parseSetCookie(line).attrs['max-age'] === '0') continue;
      await http(app).get('/race-rolling/read').set('Cookie', line.split(';')[0]).expect(200, {});
    }
    await http(app).get('/race-rolling/read').set('Cookie', cookie).expect(200, {});
  });
});
