import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Res, type INestApplication } from '@nestjs/common';
import type { Response } from 'express';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

const store = new MemoryStore();

/**
 * `@Res()` without passthrough: the handler writes the response itself, so the head is sent
 * before the interceptor's after-phase. The module must set the cookie when headers flush.
 */
@Controller('direct')
class DirectResponseController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('json') json(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'json';
    res.json({ ok: true });
  }
  @Get('async-json') async asyncJson(@Session() session: SessionData, @Res() res: Response) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.style = 'async-json';
    res.status(201).json({ created: true });
  }
  @Get('send') send(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'send';
    res.type('text/plain').send('sent');
  }
  @Get('write-end') writeEnd(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'write-end';
    res.setHeader('Content-Type', 'text/plain');
    res.write('part one, ');
    res.end('part two');
  }
  @Get('write-head') writeHead(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'write-head';
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('explicit head');
  }
  @Get('redirect') redirect(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'redirect';
    res.redirect('/direct/target');
  }
  @Get('own-cookie') ownCookie(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'own-cookie';
    res.cookie('other', '1');
    res.json({ ok: true });
  }
  /** The handler's cookie is set with setHeader, then the head is written with a headers object. */
  @Get('own-cookie-write-head') ownCookieWriteHead(@Session() session: SessionData, @Res() res: Response) {
    session.style = 'own-cookie-write-head';
    res.cookie('other', '1');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('explicit head');
  }
  @Get('read') read(@Session() session: SessionData, @Res() res: Response) {
    res.json({ style: session.style ?? null, user: session.user ?? null });
  }
}

@Module({
  imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
  controllers: [DirectResponseController],
})
class DirectResponseAppModule {}

describe('answer styles: @Res() without passthrough (the handler writes the response)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(DirectResponseAppModule);
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

  it('a cookie the handler set with res.cookie() is kept next to the session cookie', async () => {
    const res = await http(app).get('/direct/own-cookie').expect(200);
    const cookies = setCookies(res);
    expect(cookies.some((c) => c.startsWith('other=1'))).toBe(true);
    expect(sessionCookie(res)).toBeDefined();
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ style: 'own-cookie' });
  });

  // Regression guard: a headers object passed to writeHead() makes Node call setHeader() for
  // each of its keys, which would replace a Set-Cookie the handler had set with res.cookie().
  it('res.cookie() followed by res.writeHead(status, headers) keeps both cookies', async () => {
    const res = await http(app).get('/direct/own-cookie-write-head').expect(200);
    const cookies = setCookies(res);
    expect(sessionCookie(res)).toBeDefined();
    expect(cookies.some((c) => c.startsWith('other=1'))).toBe(true);
  });
});
