import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Redirect, UnauthorizedException, type INestApplication } from '@nestjs/common';
import { MemoryStore, RegenerateSession, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

@Controller('redirect')
class RedirectController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('static') @Redirect('/redirect/home', 302) staticTarget(@Session() session: SessionData) {
    session.flash = 'saved';
  }
  @Get('dynamic') @Redirect('/redirect/home', 302) dynamic(@Session() session: SessionData) {
    session.returnTo = '/cart';
    return { url: '/redirect/elsewhere', statusCode: 303 };
  }
  @Get('async') @Redirect() async asyncTarget(@Session() session: SessionData) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.flash = 'later';
    return { url: '/redirect/home' };
  }
  /** The classic post-login redirect: new id, same data, then redirect. */
  @Get('login') @Redirect('/redirect/home') @RegenerateSession() login(@Session() session: SessionData) {
    session.user = 'grace';
  }
  @Get('refused') @Redirect('/redirect/home') refused(@Session() session: SessionData) {
    session.flash = 'refused';
    throw new UnauthorizedException();
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [RedirectController],
  })
  class RedirectAppModule {}
  return { store, RedirectAppModule };
}

describe.each(PLATFORMS)('answer styles: @Redirect() (%s)', (platform) => {
  const { store, RedirectAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(RedirectAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('a static redirect carries the cookie; the change is saved', async () => {
    const res = await http(app).get('/redirect/static').expect(302);
    expect(res.headers.location).toBe('/redirect/home');
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ flash: 'saved' });
  });

  it('a redirect whose target the handler returns carries the cookie; the change is saved', async () => {
    const res = await http(app).get('/redirect/dynamic').expect(303);
    expect(res.headers.location).toBe('/redirect/elsewhere');
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ returnTo: '/cart' });
  });

  it('an async handler behind @Redirect() carries the cookie', async () => {
    const res = await http(app).get('/redirect/async').expect(302);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ flash: 'later' });
  });

  it('@Redirect() with @RegenerateSession(): the redirect carries the new id, the old record is gone', async () => {
    const seed = await http(app).get('/redirect/seed').expect(200);
    const oldId = idOf(sessionCookie(seed));
    const res = await http(app).get('/redirect/login').set('Cookie', sessionCookie(seed)!).expect(302);
    const newId = idOf(sessionCookie(res));
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    expect(await stored(store, newId)).toEqual({ user: 'grace' });
    expect(await stored(store, oldId)).toBeNull();
  });

  it('a 4xx thrown instead of redirecting still saves the change', async () => {
    const res = await http(app).get('/redirect/refused').expect(401);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ flash: 'refused' });
  });
});
