import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Res, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

/**
 * `@Res()` without passthrough: the handler writes the response itself, so the head is sent
 * before the interceptor's after-phase. The module must set the cookie when headers flush.
 * `res` is Express's `Response` or Fastify's `FastifyReply`; see platformResponse().
 */
@Controller('direct')
class DirectResponseController {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('json') json(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'json';
    platformResponse(res).json({ ok: true });
  }
  @Get('async-json') async asyncJson(@Session() session: SessionData, @Res() res: unknown) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.style = 'async-json';
    platformResponse(res).status(201).json({ created: true });
  }
  @Get('send') send(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'send';
    platformResponse(res).type('text/plain').send('sent');
  }
  @Get('write-end') writeEnd(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'write-end';
    const { raw } = platformResponse(res);
    raw.setHeader('Content-Type', 'text/plain');
    raw.write('part one, ');
    raw.end('part two');
  }
  @Get('write-head') writeHead(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'write-head';
    const { raw } = platformResponse(res);
    raw.writeHead(200, { 'Content-Type': 'text/plain' });
    raw.end('explicit head');
  }
  @Get('redirect') redirect(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'redirect';
    platformResponse(res).redirect('/direct/target');
  }
  @Get('own-cookie') ownCookie(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'own-cookie';
    platformResponse(res).cookie('other', '1').json({ ok: true });
  }
  /** The handler's cookie is set with setHeader, then the head is written with a headers object. */
  @Get('own-cookie-write-head') ownCookieWriteHead(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'own-cookie-write-head';
    const reply = platformResponse(res).rawCookie('other', '1');
    reply.raw.writeHead(200, { 'Content-Type': 'text/plain' });
    reply.raw.end('explicit head');
  }
  /** The cookie goes in the headers object given to writeHead itself. */
  @Get('own-cookie-in-head') ownCookieInHead(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'own-cookie-in-head';
    platformResponse(res).raw.writeHead(200, { 'Content-Type': 'text/plain', 'Set-Cookie': 'other=1; Path=/' });
    platformResponse(res).raw.end('explicit head');
  }
  /** The handler's cookie goes through Nest's own platform-neutral API. */
  @Get('adapter-cookie') adapterCookie(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'adapter-cookie';
    this.adapterHost.httpAdapter.setCookie(res, 'other', '1', { path: '/' });
    platformResponse(res).json({ ok: true });
  }
  @Get('adapter-cookie-write-head') adapterCookieWriteHead(@Session() session: SessionData, @Res() res: unknown) {
    session.style = 'adapter-cookie-write-head';
    this.adapterHost.httpAdapter.setCookie(res, 'other', '1', { path: '/' });
    const { raw } = platformResponse(res);
    raw.writeHead(200, { 'Content-Type': 'text/plain' });
    raw.end('explicit head');
  }
  @Get('read') read(@Session() session: SessionData, @Res() res: unknown) {
    platformResponse(res).json({ style: session.style ?? null, user: session.user ?? null });
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [DirectResponseController],
  })
  class DirectResponseAppModule {}
  return { store, DirectResponseAppModule };
}

describe.each(PLATFORMS)('answer styles: @Res() without passthrough (the handler writes the response) (%s)', (platform) => {
  const { store, DirectResponseAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(DirectResponseAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it.each([
    ['json', 200],
    ['async-json', 201],
    ['send', 200],
    ['write-end', 200],
    ['write-head', 200],
    ['redirect', 302],
  ])('%s: the cookie is on the response and the data persisted', async (style, status) => {
    const res = await http(app).get(`/direct/${style}`).expect(status);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(await stored(store, idOf(cookie))).toEqual({ style });
    // The next request loads what was saved.
    await http(app).get('/direct/read').set('Cookie', cookie!).expect(200, { style, user: null });
  });

  it('an existing session changed by a @Res() handler is updated under the same id', async () => {
    const seed = await http(app).get('/direct/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const res = await http(app).get('/direct/json').set('Cookie', cookie).expect(200);
    expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada', style: 'json' });
  });

  it('a read-only @Res() handler sends no cookie (fixed expiry)', async () => {
    const seed = await http(app).get('/direct/seed').expect(200);
    const res = await http(app).get('/direct/read').set('Cookie', sessionCookie(seed)!).expect(200);
    expect(setCookies(res)).toEqual([]);
  });

  it('a cookie the handler set (res.cookie() / reply.header()) is kept next to the session cookie', async () => {
    const res = await http(app).get('/direct/own-cookie').expect(200);
    const cookies = setCookies(res);
    expect(cookies.filter((c) => c.startsWith('other=1'))).toHaveLength(1);
    expect(cookies.filter((c) => c.startsWith('sid='))).toHaveLength(1);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'own-cookie' });
  });

  // Regression guard: a headers object passed to writeHead() makes Node call setHeader() for
  // each of its keys, which would replace a Set-Cookie the handler had set with res.cookie().
  it('a cookie set on the Node response followed by writeHead(status, headers) keeps both cookies', async () => {
    const res = await http(app).get('/direct/own-cookie-write-head').expect(200);
    const cookies = setCookies(res);
    expect(sessionCookie(res)).toBeDefined();
    expect(cookies.filter((c) => c.startsWith('other=1'))).toHaveLength(1);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'own-cookie-write-head' });
  });

  it.each(['adapter-cookie', 'adapter-cookie-write-head'])(
    "%s: a cookie set with Nest's HttpAdapter.setCookie() is kept next to the session cookie",
    async (style) => {
      const res = await http(app).get(`/direct/${style}`).expect(200);
      const cookies = setCookies(res);
      expect(cookies.filter((c) => c.startsWith('other=1'))).toHaveLength(1);
      expect(cookies.filter((c) => c.startsWith('sid='))).toHaveLength(1);
      expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style });
    },
  );

  it('a Set-Cookie inside the headers object given to writeHead() is kept next to the session cookie', async () => {
    const res = await http(app).get('/direct/own-cookie-in-head').expect(200);
    const cookies = setCookies(res);
    expect(cookies.filter((c) => c.startsWith('other=1'))).toHaveLength(1);
    expect(cookies.filter((c) => c.startsWith('sid='))).toHaveLength(1);
  });
});
