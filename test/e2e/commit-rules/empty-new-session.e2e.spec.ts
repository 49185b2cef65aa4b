import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { RegenerateSession, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore } from './fixtures.js';

@Controller('empty')
class EmptySessionController {
  constructor(private readonly sessions: SessionService) {}

  @Get('peek') peek(@Session() session: SessionData) {
    return { user: session.user ?? null };
  }
  @Get('add-and-remove') addAndRemove(@Session() session: SessionData) {
    session.temp = 'x';
    delete session.temp;
    return { ok: true };
  }
  @Get('get-id') async getId(@Req() req: unknown) {
    await this.sessions.load(req);
    return { hasId: typeof this.sessions.getId(req) };
  }
  @Get('regenerate') async regenerate(@Req() req: unknown) {
    await this.sessions.regenerate(req);
    return { ok: true };
  }
  @Get('login') @RegenerateSession() login(@Session() session: SessionData) {
    return { user: session.user ?? null };
  }
  @Get('destroy') async destroy(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    // autoload everywhere: loading alone must not create anything either.
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false, autoload: true })],
    controllers: [EmptySessionController],
  })
  class EmptySessionAppModule {}
  return { store, EmptySessionAppModule };
}

describe.each(PLATFORMS)('commit rules: a new session that stays empty (%s)', (platform) => {
  const { store, EmptySessionAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(EmptySessionAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => store.resetCalls());

  it.each(['peek', 'add-and-remove', 'get-id', 'regenerate', 'login', 'destroy'])(
    '%s without a cookie: no store call at all, no cookie',
    async (route) => {
      const res = await http(app).get(`/empty/${route}`).expect(200);
      expect(setCookies(res)).toEqual([]);
      expect(store.calls).toEqual({ read: 0, write: 0, update: 0, remove: 0, touch: 0 });
      expect(store.size).toBe(0);
    },
  );

  it('a burst of cookieless requests creates no sessions', async () => {
    await Promise.all(Array.from({ length: 20 }, () => http(app).get('/empty/peek').expect(200)));
    expect(store.size).toBe(0);
    expect(store.persistingCalls()).toBe(0);
  });
});
