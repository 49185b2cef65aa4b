import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { Session, SessionModule, SessionService, UseSessionAutoload, type SessionData } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { SpyStore, stored } from '../commit-rules/fixtures.js';

@Injectable()
class LoadingGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}
  async canActivate(context: ExecutionContext) {
    await this.sessions.load(context.switchToHttp().getRequest());
    return true;
  }
}

@Controller('read-fail')
class ReadFailureController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('visit') visit(@Session() session: SessionData) {
    const seen = { ...session };
    session.visited = true;
    return { seen };
  }
  @Get('autoload') @UseSessionAutoload() autoload() {
    return { ok: true };
  }
  @Get('guarded') @UseGuards(LoadingGuard) guarded() {
    return { ok: true };
  }
  @Get('lazy') lazy() {
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  const logger = new RecordingLogger();
  @Module({
    // storeFailure is left at its default: 'reject'.
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger })],
    controllers: [ReadFailureController],
    providers: [LoadingGuard],
  })
  class ReadFailureRejectAppModule {}
  return { store, logger, ReadFailureRejectAppModule };
}

describe.each(PLATFORMS)("bad input: a store whose read fails, storeFailure 'reject' (default) (%s)", (platform) => {
  const { store, logger, ReadFailureRejectAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  beforeAll(async () => {
    app = await startApp(ReadFailureRejectAppModule, platform);
    cookie = sessionCookie(await http(app).get('/read-fail/seed').expect(200))!;
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => {
    store.resetCalls();
    store.failing.add('read');
    logger.calls.length = 0;
  });

  it.each(['visit', 'autoload', 'guarded'])('%s: 503 with a clear message, no cookie, nothing written', async (route) => {
    const res = await http(app).get(`/read-fail/${route}`).set('Cookie', cookie).expect(503);
    expect(String(res.body.message)).toMatch(/session store/i);
    expect(String(res.body.message)).toMatch(/unavailable|retry|read/i);
    expect(setCookies(res)).toEqual([]);
    expect(store.calls.read).toBe(1);
    expect(store.persistingCalls() + store.calls.remove).toBe(0);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  it('the failure is logged as an error naming the read, without the session ID or secret', async () => {
    await http(app).get('/read-fail/visit').set('Cookie', cookie).expect(503);
    const errors = logger.messages('error');
    expect(errors.some((m) => /store/i.test(m) && /read/i.test(m))).toBe(true);
    for (const message of logger.messages()) {
      expect(message).not.toContain(idOf(cookie)!);
      expect(message).not.toContain(SECRET);
    }
  });

  it('a request without a session cookie is not affected (nothing to read)', async () => {
    const res = await http(app).get('/read-fail/visit').expect(200, { seen: {} });
    expect(store.calls.read).toBe(0);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ visited: true });
  });

  it('a route that does not use the session is not affected', async () => {
    await http(app).get('/read-fail/lazy').set('Cookie', cookie).expect(200, { ok: true });
    expect(store.calls.read).toBe(0);
  });
});
