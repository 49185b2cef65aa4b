import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  HttpCode,
  InternalServerErrorException,
  Module,
  Req,
  Res,
  ServiceUnavailableException,
  type INestApplication,
} from '@nestjs/common';
import { MemoryStore, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

/** Handlers that change the session and then answer with a status >= 500. */
@Controller('server-error')
class ServerErrorController {
  constructor(private readonly sessions: SessionService) {}

  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('http-500') http500(@Session() session: SessionData) {
    session.changed = 'http-500';
    throw new InternalServerErrorException();
  }
  @Get('http-503') http503(@Session() session: SessionData) {
    session.changed = 'http-503';
    throw new ServiceUnavailableException();
  }
  @Get('plain-error') plainError(@Session() session: SessionData) {
    session.changed = 'plain-error';
    throw new Error('kaboom');
  }
  @Get('async-error') async asyncError(@Session() session: SessionData) {
    session.changed = 'async-error';
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw new TypeError('cannot read properties of undefined');
  }
  @Get('http-code-500') @HttpCode(500) httpCode500(@Session() session: SessionData) {
    session.changed = 'http-code-500';
    return { failed: true };
  }
  @Get('passthrough-502') passthrough502(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    session.changed = 'passthrough-502';
    platformResponse(res).status(502);
    return { failed: true };
  }
  @Get('res-500') res500(@Session() session: SessionData, @Res() res: unknown) {
    session.changed = 'res-500';
    platformResponse(res).status(500).json({ failed: true });
  }
  /** The status is passed to writeHead itself, so res.statusCode is still 200 until it runs. */
  @Get('write-head-500') writeHead500(@Session() session: SessionData, @Res() res: unknown) {
    session.changed = 'write-head-500';
    const { raw } = platformResponse(res);
    raw.writeHead(500, { 'Content-Type': 'text/plain' });
    raw.end('failed');
  }
  @Get('write-head-503-bare') writeHead503Bare(@Session() session: SessionData, @Res() res: unknown) {
    session.changed = 'write-head-503-bare';
    const { raw } = platformResponse(res);
    raw.writeHead(503);
    raw.end();
  }
  @Get('destroy-then-fail') async destroyThenFail(@Req() req: unknown) {
    await this.sessions.destroy(req);
    throw new Error('logout half done');
  }
  @Get('clear-then-fail') clearThenFail(@Session() session: SessionData) {
    for (const key of Object.keys(session)) delete session[key];
    throw new Error('failed after clearing');
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [ServerErrorController],
  })
  class ServerErrorAppModule {}
  return { store, ServerErrorAppModule };
}

const routes: [string, number][] = [
  ['http-500', 500],
  ['http-503', 503],
  ['plain-error', 500],
  ['async-error', 500],
  ['http-code-500', 500],
  ['passthrough-502', 502],
  ['res-500', 500],
];
/** See the REGRESSION GUARD note below. */
const writeHeadRoutes: [string, number][] = [
  ['write-head-500', 500],
  ['write-head-503-bare', 503],
];

// Regression guard, write-head-* routes: the flush hook (onHeadersFlush) runs BEFORE the original
// writeHead, when `res.statusCode` does not yet hold the status passed to `writeHead(status, …)`
// (Node sets it inside that call). Read from the wrong place, a handler answering
// `res.writeHead(500)` would look like a 200: the change persisted and the cookie sent on a 5xx.
describe.each(PLATFORMS)('answer styles: a response with status >= 500 persists no change (%s)', (platform) => {
  const { store, ServerErrorAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(ServerErrorAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  let sizeBefore: number;
  beforeEach(() => {
    sizeBefore = store.size;
  });

  it.each(routes)('%s: a new session is neither written nor sent (%i)', async (route, status) => {
    const res = await http(app).get(`/server-error/${route}`).expect(status);
    expect(setCookies(res)).toEqual([]);
    expect(store.size).toBe(sizeBefore);
  });

  it.each(routes)('%s: an existing session keeps its stored data and gets no cookie (%i)', async (route, status) => {
    const seed = await http(app).get('/server-error/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const res = await http(app).get(`/server-error/${route}`).set('Cookie', cookie).expect(status);
    expect(setCookies(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it.each(writeHeadRoutes)('%s (status given to writeHead): a new session is neither written nor sent (%i)', async (route, status) => {
    const res = await http(app).get(`/server-error/${route}`).expect(status);
    expect(setCookies(res)).toEqual([]);
    expect(store.size).toBe(sizeBefore);
  });

  it.each(writeHeadRoutes)('%s (status given to writeHead): an existing session keeps its data, no cookie (%i)', async (route, status) => {
    const seed = await http(app).get('/server-error/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const res = await http(app).get(`/server-error/${route}`).set('Cookie', cookie).expect(status);
    expect(setCookies(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it('destroy followed by an error leaves the record and sends no clearing cookie', async () => {
    const seed = await http(app).get('/server-error/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const res = await http(app).get('/server-error/destroy-then-fail').set('Cookie', cookie).expect(500);
    expect(setCookies(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it('emptying the session followed by an error leaves the record and sends no clearing cookie', async () => {
    const seed = await http(app).get('/server-error/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const res = await http(app).get('/server-error/clear-then-fail').set('Cookie', cookie).expect(500);
    expect(setCookies(res)).toEqual([]);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });
});
