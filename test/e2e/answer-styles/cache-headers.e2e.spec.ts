import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BadRequestException, Controller, Get, Header, Module, Req, Res, type INestApplication } from '@nestjs/common';
import { MemoryStore, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';
import { sidLines } from '../commit-rules/fixtures.js';

/** A Cache-Control that keeps shared caches (proxies, CDNs) from storing the response. */
const SHARED_CACHE_SAFE = /(^|,)\s*(private|no-store)\s*(,|$)/i;
const varies = (value: unknown) => String(value ?? '').split(',').map((v) => v.trim().toLowerCase());

@Controller('cache')
class CacheController {
  constructor(private readonly sessions: SessionService) {}

  @Get('set') set(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('own-cache-control') @Header('Cache-Control', 'public, max-age=60') ownCacheControl(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('own-cache-control-res') ownCacheControlRes(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    platformResponse(res).setHeader('Cache-Control', 'no-cache');
    session.user = 'ada';
    return { ok: true };
  }
  @Get('own-vary') @Header('Vary', 'Accept-Encoding') ownVary(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('own-vary-cookie') @Header('Vary', 'Accept, cookie') ownVaryCookie(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  @Get('direct') direct(@Session() session: SessionData, @Res() res: unknown) {
    session.user = 'ada';
    platformResponse(res).json({ ok: true });
  }
  @Get('direct-own-cache-control') directOwn(@Session() session: SessionData, @Res() res: unknown) {
    session.user = 'ada';
    platformResponse(res).setHeader('Cache-Control', 'max-age=0, must-revalidate').json({ ok: true });
  }
  @Get('rejected') rejected(@Session() session: SessionData) {
    session.attempts = 1;
    throw new BadRequestException();
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [CacheController],
  })
  class CacheAppModule {}
  return { store, CacheAppModule };
}

describe.each(PLATFORMS)('answer styles: Vary and Cache-Control on responses that carry the session cookie (%s)', (platform) => {
  const { store, CacheAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(CacheAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it.each(['set', 'direct', 'rejected'])('%s: setting the cookie adds Vary: Cookie and a private Cache-Control', async (route) => {
    const res = await http(app).get(`/cache/${route}`);
    expect(sessionCookie(res)).toBeDefined();
    expect(varies(res.headers.vary)).toContain('cookie');
    expect(res.headers['cache-control']).toMatch(SHARED_CACHE_SAFE);
  });

  it('clearing the cookie (logout) adds Vary: Cookie and a private Cache-Control', async () => {
    const login = await http(app).get('/cache/set').expect(200);
    const res = await http(app).get('/cache/logout').set('Cookie', sessionCookie(login)!).expect(200);
    const lines = sidLines(res);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Max-Age=0/i);
    expect(varies(res.headers.vary)).toContain('cookie');
    expect(res.headers['cache-control']).toMatch(SHARED_CACHE_SAFE);
  });

  it.each([
    ['own-cache-control', 'public, max-age=60'],
    ['own-cache-control-res', 'no-cache'],
    ['direct-own-cache-control', 'max-age=0, must-revalidate'],
  ])("%s: the handler's own Cache-Control is kept as it set it", async (route, cacheControl) => {
    const res = await http(app).get(`/cache/${route}`).expect(200);
    expect(sessionCookie(res)).toBeDefined();
    expect(res.headers['cache-control']).toBe(cacheControl);
    expect(varies(res.headers.vary)).toContain('cookie');
  });

  it("the handler's own Vary is extended with Cookie, not replaced", async () => {
    const res = await http(app).get('/cache/own-vary').expect(200);
    expect(varies(res.headers.vary)).toEqual(['accept-encoding', 'cookie']);
  });

  it('Cookie is not added twice when the handler already varies on it', async () => {
    const res = await http(app).get('/cache/own-vary-cookie').expect(200);
    expect(varies(res.headers.vary)).toEqual(['accept', 'cookie']);
  });
});
