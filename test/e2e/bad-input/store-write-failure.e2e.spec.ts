import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BadRequestException, Controller, Get, Module, Res, type INestApplication } from '@nestjs/common';
import { RegenerateSession, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { SpyStore, sidLines, stored } from '../commit-rules/fixtures.js';

@Controller('write-fail')
class WriteFailureController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('set') set(@Session() session: SessionData) {
    session.cart = ['apple'];
    return { ok: true };
  }
  @Get('set-then-400') setThen400(@Session() session: SessionData) {
    session.attempts = 1;
    throw new BadRequestException();
  }
  @Get('passthrough') passthrough(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    platformResponse(res).cookie('other', '1');
    session.cart = ['pear'];
    return { ok: true };
  }
  @Get('login') @RegenerateSession() login(@Session() session: SessionData) {
    session.role = 'admin';
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  const logger = new RecordingLogger();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger })],
    controllers: [WriteFailureController],
  })
  class WriteFailureAppModule {}
  return { store, logger, WriteFailureAppModule };
}

describe.each(PLATFORMS)('bad input: a store whose write fails (SPEC §10.6) (%s)', (platform) => {
  const { store, logger, WriteFailureAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(WriteFailureAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => {
    store.resetCalls();
    logger.calls.length = 0;
  });

  async function seed(): Promise<string> {
    const cookie = sessionCookie(await http(app).get('/write-fail/seed').expect(200))!;
    store.failing.add('write');
    store.failing.add('update');
    return cookie;
  }

  it('a new session: 5xx, no session cookie, nothing stored', async () => {
    store.failing.add('write');
    store.failing.add('update');
    const sizeBefore = store.size;
    const res = await http(app).get('/write-fail/set');
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sidLines(res)).toEqual([]);
    expect(store.size).toBe(sizeBefore);
    expect(store.calls.write + store.calls.update).toBeGreaterThan(0);
  });

  it('an existing session: 5xx, no session cookie, the record keeps its old data', async () => {
    const cookie = await seed();
    const res = await http(app).get('/write-fail/set').set('Cookie', cookie);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sidLines(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it('a 4xx whose change cannot be saved becomes a 5xx without a session cookie', async () => {
    store.failing.add('write');
    const res = await http(app).get('/write-fail/set-then-400');
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sidLines(res)).toEqual([]);
  });

  it('@Res({ passthrough: true }): 5xx, no session cookie', async () => {
    const cookie = await seed();
    const res = await http(app).get('/write-fail/passthrough').set('Cookie', cookie);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sidLines(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it('the failure is logged as an error naming the write, without the session ID', async () => {
    const cookie = await seed();
    await http(app).get('/write-fail/set').set('Cookie', cookie);
    expect(logger.messages('error').some((m) => /store/i.test(m) && /write/i.test(m))).toBe(true);
    for (const message of logger.messages()) expect(message).not.toContain(idOf(cookie)!);
  });

  it('@RegenerateSession() whose new record cannot be written: 5xx, no session cookie', async () => {
    const cookie = await seed();
    const res = await http(app).get('/write-fail/login').set('Cookie', cookie);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sidLines(res)).toEqual([]);
  });

  // Regression guard: if removals ran before the write, a failed write of the regenerated record
  // would find the old record already gone. The response would be a 5xx with no cookie, yet a
  // change persisted: the user's session destroyed by a transient store error during login.
  // SPEC §4: "A response with status >= 500 persists no change." (runCommit writes the new
  // record first and removes the old one after it succeeded.)
  it('a failed regenerate leaves the old session in place (a 5xx persists no change)', async () => {
    const cookie = await seed();
    const res = await http(app).get('/write-fail/login').set('Cookie', cookie);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  // Regression guard (a bug found in execute(): the `movedFrom` existence check
  // `update(movedFrom, write.record, …)`): to check that the old record still exists, the NEW
  // data is written over the OLD record before the new record is created. When creating the new
  // record then fails, the response is a 5xx without a cookie, but the old id — the one the
  // client (or an attacker who planted it: session fixation) still holds — now carries the
  // post-login data ({ role: 'admin' }). SPEC §4: a 5xx persists no change; @RegenerateSession()
  // exists precisely so the pre-login id never gets the logged-in data.
  it('a regenerate whose create fails never puts the new data under the old id', async () => {
    const cookie = sessionCookie(await http(app).get('/write-fail/seed').expect(200))!;
    store.failing.add('write'); // creating the new record fails; updating existing ones works
    const res = await http(app).get('/write-fail/login').set('Cookie', cookie);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sidLines(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });
});
