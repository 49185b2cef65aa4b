import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, SessionService, UseSessionAutoload, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore, stored } from './fixtures.js';

@Controller('read-only')
class ReadOnlyController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = { items: [{ sku: 'apple', qty: 2 }] };
    return { ok: true };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { user: session.user, items: (session.cart as { items: unknown[] }).items.length };
  }
  @Get('key') key(@Session('user') user: unknown) {
    return { user };
  }
  @Get('autoload') @UseSessionAutoload() autoload(@Req() req: { session: SessionData }) {
    return { user: req.session.user };
  }
  @Get('service') async service(@Req() req: unknown) {
    const session = await this.sessions.load(req);
    return { user: session.user, id: this.sessions.getId(req) === undefined ? 'none' : 'some' };
  }
  /** Assignments that leave the data as it was are not changes. */
  @Get('same-values') sameValues(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = { items: [{ sku: 'apple', qty: 2 }] };
    return { ok: true };
  }
  @Get('add-and-remove') addAndRemove(@Session() session: SessionData) {
    session.temp = 1;
    delete session.temp;
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    // Fixed expiry (the default): a read-only request sends no cookie.
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [ReadOnlyController],
  })
  class ReadOnlyAppModule {}
  return { store, ReadOnlyAppModule };
}

describe.each(PLATFORMS)('commit rules: a read-only request writes nothing (%s)', (platform) => {
  const { store, ReadOnlyAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  beforeAll(async () => {
    app = await startApp(ReadOnlyAppModule, platform);
    cookie = sessionCookie(await http(app).get('/read-only/seed').expect(200))!;
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => store.resetCalls());

  it.each(['read', 'key', 'autoload', 'service', 'same-values', 'add-and-remove'])(
    '%s: one read, no write/update/touch/remove, no cookie',
    async (route) => {
      const res = await http(app).get(`/read-only/${route}`).set('Cookie', cookie).expect(200);
      expect(store.calls.read).toBe(1);
      expect(store.persistingCalls()).toBe(0);
      expect(store.calls.remove).toBe(0);
      expect(setCookies(res)).toEqual([]);
      expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada', cart: { items: [{ sku: 'apple', qty: 2 }] } });
    },
  );

  it('the handler did see the data', async () => {
    await http(app).get('/read-only/read').set('Cookie', cookie).expect(200, { user: 'ada', items: 1 });
    await http(app).get('/read-only/key').set('Cookie', cookie).expect(200, { user: 'ada' });
    await http(app).get('/read-only/autoload').set('Cookie', cookie).expect(200, { user: 'ada' });
  });

  it('many read-only requests in a row never write', async () => {
    for (let i = 0; i < 5; i++) await http(app).get('/read-only/read').set('Cookie', cookie).expect(200);
    expect(store.calls.read).toBe(5);
    expect(store.persistingCalls()).toBe(0);
  });
});
