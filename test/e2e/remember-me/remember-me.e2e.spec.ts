/**
 * A per-session lifetime ("remember me"), set at login through `session.cookie.maxAge` or
 * `SessionService.setLifetime()`: it persists across requests, drives the cookie's Max-Age and
 * the store TTL, and is still capped by `maxLifetime`, with fixed and rolling expiry.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Query, Req, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, SessionService, type SessionModuleOptions, type SessionObject } from '../../../src/index.js';
import { MemoryStore } from '../../../src/stores/memory.store.js';
import { PLATFORMS, SECRET, http, sessionCookie, setCookies, sleep, startApp, type Platform } from '../../support/session-app.js';

/** Records the TTL of every write and touch. */
class TtlStore extends MemoryStore {
  readonly ttls: number[] = [];
  override async write(id: string, data: Uint8Array, lifetime: number, ttl: number) {
    this.ttls.push(ttl);
    return super.write(id, data, lifetime, ttl);
  }
  override async touch(id: string, ttl: number) {
    this.ttls.push(ttl);
    return super.touch(id, ttl);
  }
}

@Controller()
class LoginController {
  constructor(private readonly sessions: SessionService) {}

  @Get('login') login(@Session() session: SessionObject, @Query('remember') remember?: string, @Query('via') via?: string) {
    session.user = 'ada';
    if (remember) {
      if (via === 'service') this.sessions.setLifetime(session as never, Number(remember));
      else session.cookie.maxAge = Number(remember) * 1000;
    }
    return { maxAge: session.cookie.maxAge, originalMaxAge: session.cookie.originalMaxAge };
  }
  @Get('service-login') serviceLogin(@Req() req: unknown, @Session() session: SessionObject, @Query('remember') remember: string) {
    session.user = 'ada';
    this.sessions.setLifetime(req, Number(remember));
    return { ok: true };
  }
  @Get('change') change(@Session() session: SessionObject) {
    session.n = ((session.n as number) ?? 0) + 1;
    return { n: session.n };
  }
  @Get('read') read(@Session() session: SessionObject) {
    return { user: session.user ?? null };
  }
  @Get('browser') browser(@Session() session: SessionObject) {
    session.user = 'ada';
    session.cookie.maxAge = null;
    return { maxAge: session.cookie.maxAge };
  }
  @Get('bad') bad(@Session() session: SessionObject) {
    try {
      session.cookie.maxAge = -5;
      return { threw: false };
    } catch (error) {
      return { threw: error instanceof RangeError };
    }
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(platform: Platform, options: Omit<SessionModuleOptions, 'secret'>) {
  @Module({ imports: [SessionModule.forRoot({ secret: SECRET, logger: false, cookie: { secure: false }, ...options })], controllers: [LoginController] })
  class RememberModule {}
  app = await startApp(RememberModule, platform);
  return app;
}

const maxAgeOf = (res: { headers: Record<string, unknown> }) => Number(/Max-Age=(\d+)/.exec(setCookies(res).find((c) => c.startsWith('sid=')) ?? '')?.[1]);

describe.each(PLATFORMS)('remember me: a lifetime of its own per session (%s)', (platform) => {
  it('cookie.maxAge at login: the cookie and the store TTL follow it, and later changes keep it (fixed expiry)', async () => {
    const store = new TtlStore();
    const target = await boot(platform, { store, lifetime: 3600 });
    const plain = await http(target).get('/login').expect(200);
    expect(maxAgeOf(plain)).toBe(3600);
    expect(plain.body.originalMaxAge).toBe(3_600_000);
    const res = await http(target).get('/login?remember=2592000').expect(200);
    expect(maxAgeOf(res)).toBe(2_592_000);
    expect(res.body.originalMaxAge).toBe(2_592_000_000);
    expect(store.ttls.at(-1)).toBeCloseTo(2_592_000, 0);
    const cookie = sessionCookie(res)!;
    const later = await http(target).get('/change').set('Cookie', cookie).expect(200, { n: 1 });
    expect(maxAgeOf(later)).toBeGreaterThan(2_591_990);
    expect(store.ttls.at(-1)).toBeGreaterThan(2_591_990);
  });

  it('sessionService.setLifetime() does the same', async () => {
    const target = await boot(platform, { lifetime: 3600 });
    expect(maxAgeOf(await http(target).get('/service-login?remember=86400').expect(200))).toBe(86_400);
  });

  it('still capped by maxLifetime', async () => {
    const target = await boot(platform, { lifetime: 3600, maxLifetime: 7200 });
    expect(maxAgeOf(await http(target).get('/login?remember=2592000').expect(200))).toBe(7200);
  });

  it('rolling: the idle deadline follows the session’s own lifetime, enforced on the server', async () => {
    const store = new TtlStore();
    const target = await boot(platform, { store, lifetime: 1, rolling: true });
    const short = sessionCookie(await http(target).get('/login').expect(200))!;
    const long = sessionCookie(await http(target).get('/login?remember=60').expect(200))!;
    await sleep(1300);
    // The module's 1 s idle lifetime ended the plain session; the remembered one lives on.
    await http(target).get('/read').set('Cookie', short).expect(200, { user: null });
    const res = await http(target).get('/read').set('Cookie', long).expect(200, { user: 'ada' });
    expect(maxAgeOf(res)).toBeGreaterThan(55);
  });

  it('a browser-session cookie for one session (maxAge = null) and a clear error for a bad value', async () => {
    const target = await boot(platform, { lifetime: 3600 });
    const res = await http(target).get('/browser').expect(200, { maxAge: null });
    expect(sessionCookie(res)).toBeDefined();
    expect(setCookies(res).find((c) => c.startsWith('sid='))).not.toMatch(/Max-Age/);
    await http(target).get('/read').set('Cookie', sessionCookie(res)!).expect(200, { user: 'ada' });
    await http(target).get('/bad').expect(200, { threw: true });
  });
});
