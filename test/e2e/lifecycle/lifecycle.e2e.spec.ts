import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  Req,
  UseGuards,
  type INestApplication,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import {
  Session,
  SessionModule,
  SessionNotLoadedError,
  SessionService,
  UseSessionAutoload,
  type SessionData,
} from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';

/** Loads the session in a guard, as an auth guard would; guards run before interceptors. */
@Injectable()
class LoggedInGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}
  async canActivate(context: ExecutionContext) {
    const req = context.switchToHttp().getRequest();
    const session = await this.sessions.load(req);
    req.loadedByGuard = session;
    return session.user !== undefined;
  }
}

@Controller()
class LifecycleController {
  constructor(private readonly sessions: SessionService) {}

  @Get('noop') noop(@Req() req: { session?: unknown }) {
    return { loaded: this.sessions.isLoaded(req), property: req.session === undefined ? 'absent' : 'present' };
  }
  @Get('login') login(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = ['apple'];
    return { ok: true };
  }
  @Get('user') user(@Session('user') user: unknown, @Session('missing') missing: unknown) {
    return { user, missing: missing === undefined };
  }
  @Get('twice') async twice(@Req() req: unknown, @Session() session: SessionData) {
    const again = await this.sessions.load(req);
    return { same: again === session && this.sessions.get(req) === session };
  }
  @Get('get-unloaded') getUnloaded(@Req() req: unknown) {
    try {
      this.sessions.get(req);
      return { threw: false };
    } catch (error) {
      return { threw: error instanceof SessionNotLoadedError, message: (error as Error).message };
    }
  }
  @Get('id') id(@Req() req: unknown) {
    return { id: this.sessions.getId(req) ?? null, loaded: this.sessions.isLoaded(req) };
  }
  @Get('property') property(@Req() req: Record<string, unknown>, @Session() session: SessionData) {
    return { same: req.session === session };
  }
  @UseGuards(LoggedInGuard)
  @Get('guarded') guarded(@Req() req: Record<string, unknown>, @Session() session: SessionData) {
    session.seenByHandler = true;
    return { same: req.loadedByGuard === session, user: session.user };
  }
  @Get('auto/peek') peek(@Req() req: unknown) {
    return { loaded: this.sessions.isLoaded(req) };
  }
  @Get('auto/skipped') skipped(@Req() req: Record<string, unknown>) {
    let getThrew = false;
    try {
      this.sessions.get(req);
    } catch (error) {
      getThrew = error instanceof SessionNotLoadedError;
    }
    return { loaded: this.sessions.isLoaded(req), property: 'session' in req ? 'present' : 'absent', getThrew, id: this.sessions.getId(req) ?? null };
  }
  @Get('autoload-off') @UseSessionAutoload(false) off(@Req() req: unknown) {
    return { loaded: this.sessions.isLoaded(req) };
  }
}

@UseSessionAutoload()
@Controller('class-auto')
class ClassAutoloadController {
  constructor(private readonly sessions: SessionService) {}
  @Get() on(@Req() req: unknown) {
    return { loaded: this.sessions.isLoaded(req), user: this.sessions.isLoaded(req) ? this.sessions.get(req).user ?? null : null };
  }
  @Get('off') @UseSessionAutoload(false) off(@Req() req: unknown) {
    return { loaded: this.sessions.isLoaded(req) };
  }
}

function fixture() {
  const store = new CountingStore();
  const logger = new RecordingLogger();
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store,
        logger,
        cookie: { secure: false },
        autoload: ['/auto', '/autoload-off', /^\/re-\d+$/],
        skip: 'X-Skip-Session',
      }),
    ],
    controllers: [LifecycleController, ClassAutoloadController],
    providers: [LoggedInGuard],
  })
  class AppModule {}
  return { store, logger, AppModule };
}

describe.each(PLATFORMS)('request lifecycle (%s)', (platform) => {
  const { store, logger, AppModule } = fixture();
  let app: INestApplication;
  let cookie: string;

  beforeAll(async () => {
    app = await startApp(AppModule, platform);
    cookie = sessionCookie(await http(app).get('/login').expect(200))!;
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    store.reset();
    logger.calls.length = 0;
  });

  it('is lazy: a handler that does not use the session costs no store access and sends no cookie', async () => {
    const res = await http(app).get('/noop').set('Cookie', cookie).expect(200, { loaded: false, property: 'absent' });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(store.total()).toBe(0);
  });

  it('@Session() loads the data; @Session(key) gives one value', async () => {
    await http(app).get('/user').set('Cookie', cookie).expect(200, { user: 'ada', missing: true });
    expect(store.calls.read).toBe(1);
  });

  it('loading twice in one request loads once, and get() returns the same object', async () => {
    await http(app).get('/twice').set('Cookie', cookie).expect(200, { same: true });
    expect(store.calls.read).toBe(1);
  });

  it('get() before load throws SessionNotLoadedError whose message says how to load', async () => {
    const res = await http(app).get('/get-unloaded').expect(200);
    expect(res.body.threw).toBe(true);
    expect(res.body.message).toMatch(/@Session\(\)/);
    expect(res.body.message).toMatch(/sessionService\.load\(req\)/);
    expect(res.body.message).toMatch(/autoload/i);
  });

  it('getId() returns the ID the cookie carries, without the signature and without loading', async () => {
    await http(app).get('/id').set('Cookie', cookie).expect(200, { id: idOf(cookie), loaded: false });
    await http(app).get('/id').expect(200, { id: null, loaded: false });
    expect(store.total()).toBe(0);
  });

  it('the loaded data sits on req[requestProperty]', async () => {
    await http(app).get('/property').set('Cookie', cookie).expect(200, { same: true });
  });

  it('a guard can load the session, and the handler sees the same object; its changes are saved', async () => {
    await http(app).get('/guarded').expect(403);
    await http(app).get('/guarded').set('Cookie', cookie).expect(200, { same: true, user: 'ada' });
    expect(store.calls.read).toBe(1);
    expect(store.calls.update).toBe(1);
  });

  it('autoload option: prefixes on segment boundaries, RegExps; nothing elsewhere', async () => {
    await http(app).get('/auto/peek').set('Cookie', cookie).expect(200, { loaded: true });
    await http(app).get('/noop').set('Cookie', cookie).expect(200, { loaded: false, property: 'absent' });
  });

  it('@UseSessionAutoload(false) on a method overrides the autoload option and a class decorator', async () => {
    await http(app).get('/autoload-off').set('Cookie', cookie).expect(200, { loaded: false });
    await http(app).get('/class-auto').set('Cookie', cookie).expect(200, { loaded: true, user: 'ada' });
    await http(app).get('/class-auto/off').set('Cookie', cookie).expect(200, { loaded: false });
  });

  it('skip: a request carrying the header (any case, any value) gets no session handling at all', async () => {
    for (const value of ['1', '', 'no']) {
      const res = await http(app).get('/user').set('Cookie', cookie).set('x-SKIP-session', value).expect(200, { missing: true });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const fresh = await http(app).get('/login').set('X-Skip-Session', 'true').expect(200);
    expect(fresh.headers['set-cookie']).toBeUndefined();
    expect(store.total()).toBe(0);
  });

  it('skip with autoload: nothing is marked loaded, req.session is not set, get() throws, no ID', async () => {
    const res = await http(app).get('/auto/skipped').set('Cookie', cookie).set('X-Skip-Session', '1').expect(200);
    expect(res.body).toEqual({ loaded: false, property: 'absent', getThrew: true, id: null });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(store.total()).toBe(0);
    // Without the header the same route autoloads.
    await http(app).get('/auto/skipped').set('Cookie', cookie).expect(200, { loaded: true, property: 'present', getThrew: false, id: idOf(cookie) });
  });

  it('logs creation once, at the logger, and never the raw session ID', async () => {
    const res = await http(app).get('/login').expect(200);
    const id = idOf(sessionCookie(res))!;
    expect(logger.messages()).toEqual([expect.stringMatching(/^Session created/)]);
    expect(logger.messages().join('\n')).not.toContain(id);
    expect(logger.messages().join('\n')).not.toContain(SECRET);
  });
});

describe.each(PLATFORMS)('autoload patterns (%s)', (platform) => {
  @Controller()
  class PathsController {
    constructor(private readonly sessions: SessionService) {}
    @Get(['/app', '/app/x', '/application', '/re-12', '/re-x', '/other']) peek(@Req() req: unknown) {
      return { loaded: this.sessions.isLoaded(req) };
    }
  }
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, logger: false, cookie: { secure: false }, autoload: ['/app/', /^\/re-\d+$/] })],
    controllers: [PathsController],
  })
  class PathsModule {}

  let app: INestApplication;
  beforeAll(async () => { app = await startApp(PathsModule, platform); });
  afterAll(async () => { await app.close(); });

  it.each([
    ['/app', true],
    ['/app/x', true],
    ['/app/x?y=1', true],
    ['/application', false],
    ['/re-12', true],
    ['/re-x', false],
    ['/other', false],
  ])('%s → loaded %s', async (path, loaded) => {
    await http(app).get(path).expect(200, { loaded });
  });

  it('autoload: true loads everywhere', async () => {
    @Module({ imports: [SessionModule.forRoot({ secret: SECRET, logger: false, autoload: true })], controllers: [PathsController] })
    class AllModule {}
    const all = await startApp(AllModule, platform);
    await http(all).get('/other').expect(200, { loaded: true });
    await all.close();
  });
});

describe.each(PLATFORMS)('skip as a function, requestProperty, logger: false (%s)', (platform) => {
  const quietStore = new CountingStore();
  @Controller()
  class C {
    @Get('w') w(@Session() session: SessionData, @Req() req: Record<string, unknown>) {
      session.x = 1;
      return { viaProperty: req.currentSession === session, viaDefault: req.session === undefined };
    }
  }
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store: quietStore,
        logger: false,
        cookie: { secure: false },
        requestProperty: 'currentSession',
        skip: (req: { url: string }) => req.url.includes('skip=1'),
      }),
    ],
    controllers: [C],
  })
  class M {}

  let app: INestApplication;
  beforeAll(async () => { app = await startApp(M, platform); });
  afterAll(async () => { await app.close(); });

  it('puts the data on the configured property', async () => {
    const res = await http(app).get('/w').expect(200, { viaProperty: true, viaDefault: true });
    expect(sessionCookie(res)).toBeDefined();
  });

  it('skips when the predicate says so: no cookie, no store access', async () => {
    quietStore.reset();
    const res = await http(app).get('/w?skip=1').expect(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(quietStore.total()).toBe(0);
  });
});

describe.each(PLATFORMS)('a session loaded by middleware (%s)', (platform) => {
  /** Middleware gets the Node.js request on Fastify (`request.raw`), Express's `req` on Express. */
  @Injectable()
  class LoadingMiddleware implements NestMiddleware {
    constructor(private readonly sessions: SessionService) {}
    async use(req: unknown, _res: unknown, next: () => void) {
      const session = await this.sessions.load(req);
      session.byMiddleware = true;
      next();
    }
  }
  @Controller('mw')
  class MiddlewareController {
    constructor(private readonly sessions: SessionService) {}
    @Get() read(@Req() req: Record<string, unknown>, @Session() session: SessionData) {
      return {
        byMiddleware: session.byMiddleware ?? null,
        sameViaGet: this.sessions.get(req) === session,
        property: req.session === undefined ? 'absent' : req.session === session ? 'same' : 'other',
      };
    }
  }
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, logger: false, cookie: { secure: false } })],
    controllers: [MiddlewareController],
    providers: [LoadingMiddleware],
  })
  class MiddlewareModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      consumer.apply(LoadingMiddleware).forRoutes(MiddlewareController);
    }
  }

  let app: INestApplication;
  beforeAll(async () => { app = await startApp(MiddlewareModule, platform); });
  afterAll(async () => { await app.close(); });

  it("the handler's @Session() and get(req) give the object the middleware loaded; the new session is sent", async () => {
    const res = await http(app).get('/mw').expect(200);
    expect(res.body).toMatchObject({ byMiddleware: true, sameViaGet: true });
    expect(sessionCookie(res)).toBeDefined();
  });

  // Regression guard: on Fastify this once failed (fixed in src/; see the git log).
  it('the handler\'s @Req() carries the loaded data on req[requestProperty]', async () => {
    const res = await http(app).get('/mw').expect(200);
    expect(res.body.property).toBe('same');
  });
});
