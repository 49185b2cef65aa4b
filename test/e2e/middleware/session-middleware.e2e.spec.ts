/**
 * Middleware written for express-session, fed by this module (SPEC §11.1): `SessionMiddleware`
 * applied to a set of routes before csrf-sync and connect-flash loads the session so that
 * `req.session` is there when they run, and `sessionMiddleware(app)` does the same through
 * `app.use()`. Without it csrf-sync crashes on the missing `req.session` (500, "Cannot read
 * properties of undefined (reading 'csrfToken')"): shown here too, so the middleware is proven
 * to be what fixes it. Routes outside `forRoutes()` make no store call (the module stays lazy).
 *
 * Express and Fastify: on Fastify, Nest middleware (and `app.use`) receives the raw Node
 * request and response (through @fastify/middie), so handlers hand `req.raw` to these libraries,
 * which keep their state (`req.session`, `req.flash`, `req.csrfToken`) on the object they got.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Req,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import flash from 'connect-flash';
import { csrfSync } from 'csrf-sync';
import { Session, SessionMiddleware, SessionModule, sessionMiddleware, type SessionData } from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import {
  PLATFORMS,
  RecordingLogger,
  SECRET,
  createPlatformApp,
  http,
  idOf,
  initApp,
  sessionCookie,
  setCookies,
  type Platform,
} from '../../support/session-app.js';

const { csrfSynchronisedProtection, generateToken } = csrfSync();

/** What express-session-era libraries work on: Express's request, or the Node request under Fastify's. */
type LegacyReq = {
  session?: Record<string, unknown>;
  flash(type: string, message?: string): unknown;
  csrfToken?: () => string;
};
const raw = (req: unknown): LegacyReq => ((req as { raw?: unknown }).raw ?? req) as LegacyReq;
// csrf-sync is typed against Express's Request; at run time it reads headers, method and session.
const asExpress = (req: unknown) => raw(req) as unknown as Parameters<typeof generateToken>[0];

@Controller('forms')
class FormsController {
  @Get('token') token(@Req() req: unknown) {
    return { token: generateToken(asExpress(req)) };
  }
  @Post('submit')
  @HttpCode(200)
  submit(@Req() req: unknown) {
    return { ok: true };
  }
  /** What the session holds, seen through this module's own decorator: the same object. */
  @Get('session') session(@Req() req: unknown, @Session() session: SessionData) {
    return { data: { ...session }, same: raw(req).session === session };
  }
}

@Controller('flash')
class FlashController {
  @Post('set')
  @HttpCode(204)
  set(@Req() req: unknown) {
    raw(req).flash('info', 'x');
  }
  @Get('get') get(@Req() req: unknown) {
    return { info: raw(req).flash('info') };
  }
}

/** csrf-sync applied WITHOUT SessionMiddleware in front of it. */
@Controller('bare')
class BareController {
  @Get('token') token(@Req() req: unknown) {
    return { token: generateToken(asExpress(req)) };
  }
  @Post('submit')
  @HttpCode(200)
  submit() {
    return { ok: true };
  }
}

/** Outside every forRoutes(): the session is never loaded here. */
@Controller('plain')
class PlainController {
  @Get('ping') ping() {
    return { pong: true };
  }
}

function middlewareModule(store: CountingStore) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [FormsController, FlashController, BareController, PlainController],
  })
  class MiddlewareAppModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      // Controllers rather than path strings: Nest matches `forRoutes('forms')` as a prefix on
      // Express but as the exact path `/forms` on Fastify (its sub-routes would go uncovered).
      consumer.apply(SessionMiddleware, csrfSynchronisedProtection).forRoutes(FormsController);
      consumer.apply(SessionMiddleware, flash()).forRoutes(FlashController);
      consumer.apply(csrfSynchronisedProtection).forRoutes(BareController);
    }
  }
  return MiddlewareAppModule;
}

async function start(root: unknown, platform: Platform, logger: RecordingLogger): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [root as never] }).compile();
  const app = createPlatformApp(moduleRef, platform);
  app.useLogger(logger);
  return initApp(app);
}

describe.each(PLATFORMS)('SessionMiddleware before csrf-sync and connect-flash (%s)', (platform) => {
  const store = new CountingStore();
  const logger = new RecordingLogger();
  let app: INestApplication;

  beforeAll(async () => {
    app = await start(middlewareModule(store), platform, logger);
  });
  afterAll(async () => {
    await app?.close();
    store.close();
  });
  beforeEach(() => {
    store.reset();
    logger.calls.length = 0;
  });

  /** A session holding a csrf-sync token: its cookie and the token. */
  async function withToken(): Promise<{ cookie: string; token: string }> {
    const res = await http(app).get('/forms/token').expect(200);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    const token = res.body.token as string;
    expect(token).toMatch(/^[0-9a-f]{256}$/);
    return { cookie: cookie!, token };
  }

  it('GET: generateToken(req) stores the token in our session (new session, cookie set, one write)', async () => {
    const { cookie, token } = await withToken();
    expect(store.calls.write).toBe(1);
    const seen = await http(app).get('/forms/session').set('Cookie', cookie).expect(200);
    expect(seen.body).toEqual({ data: { csrfToken: token }, same: true });
  });

  it('POST without a token → 403 (not 500); with a wrong token → 403', async () => {
    const { cookie } = await withToken();
    const none = await http(app).post('/forms/submit').set('Cookie', cookie);
    expect(none.status).toBe(403);
    const wrong = await http(app).post('/forms/submit').set('Cookie', cookie).set('x-csrf-token', 'f'.repeat(256));
    expect(wrong.status).toBe(403);
    // No session at all: still 403.
    expect((await http(app).post('/forms/submit')).status).toBe(403);
    expect(logger.messages('error').join('\n')).not.toMatch(/Cannot read properties/);
  });

  it('POST with the token → 200; the token survives across requests (it lives in our session)', async () => {
    const { cookie, token } = await withToken();
    await http(app).post('/forms/submit').set('Cookie', cookie).set('x-csrf-token', token).expect(200, { ok: true });
    await http(app).post('/forms/submit').set('Cookie', cookie).set('x-csrf-token', token).expect(200, { ok: true });
    // generateToken hands back the stored one rather than a new one.
    const again = await http(app).get('/forms/token').set('Cookie', cookie).expect(200);
    expect(again.body.token).toBe(token);
    expect(setCookies(again)).toEqual([]);
    // Another session's token does not pass.
    const other = await withToken();
    expect((await http(app).post('/forms/submit').set('Cookie', cookie).set('x-csrf-token', other.token)).status).toBe(403);
  });

  it('connect-flash: req.flash("info", "x") in one request, read (once) in the next', async () => {
    const set = await http(app).post('/flash/set').expect(204);
    const cookie = sessionCookie(set);
    expect(cookie).toBeDefined();
    const first = await http(app).get('/flash/get').set('Cookie', cookie!).expect(200);
    expect(first.body).toEqual({ info: ['x'] });
    // The same session (no new ID), and the message is gone after being read.
    expect(sessionCookie(first) === undefined || idOf(sessionCookie(first)) === idOf(cookie)).toBe(true);
    expect((await http(app).get('/flash/get').set('Cookie', cookie!).expect(200)).body).toEqual({ info: [] });
  });

  it('WITHOUT SessionMiddleware csrf-sync fails as the issue describes: 500, "Cannot read properties of undefined"', async () => {
    const get = await http(app).get('/bare/token');
    expect(get.status).toBe(500);
    const post = await http(app).post('/bare/submit').set('x-csrf-token', 'anything');
    expect(post.status).toBe(500);
    const errors = logger.calls.filter((c) => c.level === 'error').map((c) => c.message).join('\n');
    expect(errors).toMatch(/Cannot read properties of undefined \(reading 'csrfToken'\)/);
  });

  it('routes outside forRoutes() make no store call, even with a session cookie', async () => {
    const { cookie } = await withToken();
    store.reset();
    const res = await http(app).get('/plain/ping').set('Cookie', cookie).expect(200, { pong: true });
    expect(setCookies(res)).toEqual([]);
    expect(store.total()).toBe(0);
    // The covered routes do read it: one read, nothing written for an unchanged session.
    await http(app).get('/forms/token').set('Cookie', cookie).expect(200);
    expect(store.calls).toEqual({ read: 1, write: 0, update: 0, remove: 0, touch: 0 });
  });
});

@Controller()
class GlobalController {
  @Post('flash')
  @HttpCode(204)
  set(@Req() req: unknown) {
    raw(req).flash('info', 'via app.use');
  }
  @Get('flash') get(@Req() req: unknown) {
    return { info: raw(req).flash('info') };
  }
  @Get('session') session(@Req() req: unknown, @Session() session: SessionData) {
    return { data: { ...session }, same: raw(req).session === session, hasApi: typeof raw(req).session?.['regenerate'] === 'function' };
  }
}

describe.each(PLATFORMS)('app.use(sessionMiddleware(app)) before connect-flash (%s)', (platform) => {
  const store = new CountingStore();
  let app: INestApplication;

  beforeAll(async () => {
    @Module({
      imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
      controllers: [GlobalController],
    })
    class GlobalAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [GlobalAppModule] }).compile();
    app = createPlatformApp(moduleRef, platform);
    app.use(sessionMiddleware(app));
    app.use(flash());
    await initApp(app);
  });
  afterAll(async () => {
    await app?.close();
    store.close();
  });

  it('req.session is there for global middleware; a flash set in one request is read in the next', async () => {
    const set = await http(app).post('/flash').expect(204);
    const cookie = sessionCookie(set);
    expect(cookie).toBeDefined();
    const seen = await http(app).get('/session').set('Cookie', cookie!).expect(200);
    expect(seen.body).toEqual({ data: { flash: { info: ['via app.use'] } }, same: true, hasApi: true });
    expect((await http(app).get('/flash').set('Cookie', cookie!).expect(200)).body).toEqual({ info: ['via app.use'] });
    expect((await http(app).get('/flash').set('Cookie', cookie!).expect(200)).body).toEqual({ info: [] });
  });
});
