import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BadRequestException, Controller, Get, Module, Res, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

@Controller('passthrough')
class PassthroughController {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  @Get('own-cookie') ownCookie(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    platformResponse(res).cookie('other', '1');
    session.style = 'own-cookie';
    return { ok: true };
  }
  /** The handler replaces the whole Set-Cookie header: the session cookie comes on top. */
  @Get('set-header') setHeader(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    platformResponse(res).setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
    session.style = 'set-header';
    return { ok: true };
  }
  @Get('status') status(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    platformResponse(res).status(202).setHeader('X-Handler', 'yes');
    session.style = 'status';
    return { accepted: true };
  }
  /** The handler's cookies go through Nest's own platform-neutral API. */
  @Get('adapter-cookie') adapterCookie(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    this.adapterHost.httpAdapter.setCookie(res, 'a', '1', { path: '/' });
    this.adapterHost.httpAdapter.appendHeader(res, 'Set-Cookie', 'b=2; Path=/');
    session.style = 'adapter-cookie';
    return { ok: true };
  }
  @Get('own-cookie-400') ownCookie400(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    platformResponse(res).cookie('other', '1');
    session.style = 'own-cookie-400';
    throw new BadRequestException();
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [PassthroughController],
  })
  class PassthroughAppModule {}
  return { store, PassthroughAppModule };
}

describe.each(PLATFORMS)('answer styles: @Res({ passthrough: true }) (%s)', (platform) => {
  const { store, PassthroughAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(PassthroughAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it("the handler's own cookie and the session cookie are both sent (appended, not replaced)", async () => {
    const res = await http(app).get('/passthrough/own-cookie').expect(200, { ok: true });
    const cookies = setCookies(res);
    expect(cookies).toHaveLength(2);
    expect(cookies.filter((c) => c.startsWith('other=1'))).toHaveLength(1);
    expect(cookies.filter((c) => c.startsWith('sid='))).toHaveLength(1);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'own-cookie' });
  });

  it('cookies set with res.setHeader("Set-Cookie", [...]) / reply.header() are all kept', async () => {
    const res = await http(app).get('/passthrough/set-header').expect(200);
    const names = setCookies(res).map((c) => c.slice(0, c.indexOf('=')));
    expect(names.sort()).toEqual(['a', 'b', 'sid']);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'set-header' });
  });

  it("cookies set with Nest's HttpAdapter.setCookie() / appendHeader() are all kept", async () => {
    const res = await http(app).get('/passthrough/adapter-cookie').expect(200, { ok: true });
    const names = setCookies(res).map((c) => c.slice(0, c.indexOf('=')));
    expect(names.sort()).toEqual(['a', 'b', 'sid']);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'adapter-cookie' });
  });

  it("the handler's status and headers are kept, the change saved", async () => {
    const res = await http(app).get('/passthrough/status').expect(202, { accepted: true });
    expect(res.headers['x-handler']).toBe('yes');
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'status' });
  });

  it('a 4xx thrown after the handler set a cookie keeps both cookies and saves the change', async () => {
    const res = await http(app).get('/passthrough/own-cookie-400').expect(400);
    const cookies = setCookies(res);
    expect(cookies.some((c) => c.startsWith('other=1'))).toBe(true);
    expect(sessionCookie(res)).toBeDefined();
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'own-cookie-400' });
  });
});
