import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  Controller,
  ForbiddenException,
  Get,
  HttpException,
  Module,
  NotFoundException,
  ParseIntPipe,
  Query,
  UnauthorizedException,
  type INestApplication,
} from '@nestjs/common';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

/** Handlers that change the session and then answer with a 4xx exception. */
@Controller('client-error')
class ClientErrorController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('bad-request') badRequest(@Session() session: SessionData) {
    session.attempts = ((session.attempts as number) ?? 0) + 1;
    throw new BadRequestException('wrong password');
  }
  @Get('unauthorized') async unauthorized(@Session() session: SessionData) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.lastFailure = 'unauthorized';
    throw new UnauthorizedException();
  }
  @Get('forbidden') forbidden(@Session() session: SessionData) {
    const flash = (session.flash ??= []) as string[];
    flash.push('no access');
    throw new ForbiddenException();
  }
  @Get('not-found') notFound(@Session() session: SessionData) {
    session.missed = '/nowhere';
    throw new NotFoundException();
  }
  @Get('teapot') teapot(@Session() session: SessionData) {
    session.tea = true;
    throw new HttpException('short and stout', 418);
  }
  /** A pipe rejecting a parameter after @Session() was resolved. */
  @Get('pipe') pipe(@Session() session: SessionData, @Query('n', ParseIntPipe) n: number) {
    session.n = n;
    return { n };
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [ClientErrorController],
  })
  class ClientErrorAppModule {}
  return { store, ClientErrorAppModule };
}

describe.each(PLATFORMS)('answer styles: a thrown HttpException with a 4xx status (%s)', (platform) => {
  const { store, ClientErrorAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(ClientErrorAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it.each([
    ['bad-request', 400, { attempts: 1 }],
    ['unauthorized', 401, { lastFailure: 'unauthorized' }],
    ['forbidden', 403, { flash: ['no access'] }],
    ['not-found', 404, { missed: '/nowhere' }],
    ['teapot', 418, { tea: true }],
  ])('%s: a new session is saved and its cookie sent with the %i', async (route, status, data) => {
    const res = await http(app).get(`/client-error/${route}`).expect(status);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(await stored(store, idOf(cookie))).toEqual(data);
  });

  it('the error body is the exception answer, not replaced by the session handling', async () => {
    const res = await http(app).get('/client-error/bad-request').expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, message: 'wrong password' });
  });

  it('an existing session is updated under the same id by a 4xx answer', async () => {
    const seed = await http(app).get('/client-error/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const id = idOf(cookie);
    const first = await http(app).get('/client-error/bad-request').set('Cookie', cookie).expect(400);
    expect(idOf(sessionCookie(first))).toBe(id);
    expect(await stored(store, id)).toEqual({ user: 'ada', attempts: 1 });
    await http(app).get('/client-error/bad-request').set('Cookie', cookie).expect(400);
    expect(await stored(store, id)).toEqual({ user: 'ada', attempts: 2 });
  });

  it('a 400 from a pipe (the handler never ran): the unchanged session is not rewritten', async () => {
    const seed = await http(app).get('/client-error/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const res = await http(app).get('/client-error/pipe?n=abc').set('Cookie', cookie).expect(400);
    // The handler never ran, so the session is unchanged: no write, no cookie (fixed expiry).
    expect(sessionCookie(res)).toBeUndefined();
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });
});
