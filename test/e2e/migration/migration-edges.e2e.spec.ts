/**
 * The migration (SPEC §11.3) on the paths beside the plain "load and answer" one: a failing
 * source (Redis stopped) with `storeFailure` 'reject' and 'anonymous', a handler that fails
 * with a 5xx, a logout reached with only the old cookie, a route answering through `@Res()`,
 * and a client-side CookieStore as the new store. Old sessions come from a real express-session
 * + connect-redis app (node-redis), as in express-session-migration.e2e.spec.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  HttpCode,
  InternalServerErrorException,
  Module,
  Post,
  Req,
  Res,
  type INestApplication,
} from '@nestjs/common';
import type express from 'express';
import { Redis } from 'ioredis';
import {
  CookieStore,
  Session,
  SessionModule,
  SessionService,
  connectRedisSource,
  expressSessionStoreSource,
  type LegacySessionSource,
  type SessionData,
  type SessionStore,
} from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { type RedisServer, redisAvailable, redisCommand, startRedisServer } from '../../support/redis-server.js';
import { PLATFORMS, SECRET, http, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import {
  LEGACY_OLD_SECRET,
  LEGACY_SECRET,
  OLD_DATA,
  isClearingOfConnectSid,
  legacyClearing,
  legacyExpressApp,
  legacyLogin,
  legacyStore,
  nodeRedisClient,
  type NodeRedis,
  migratingModule,
} from './migration-support.js';


const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis.each(PLATFORMS)('migration: a source that fails (Redis stopped), Nest on %s', (platform) => {
  let server: RedisServer;
  let oldClient: NodeRedis;
  let ioredis: Redis;
  let nodeRedis: NodeRedis;
  let storeClient: NodeRedis;
  const apps: { label: string; app: INestApplication; store: CountingStore }[] = [];
  let anonymousApp: INestApplication;
  let oldCookie: string;

  beforeAll(async () => {
    server = await startRedisServer();
    oldClient = await nodeRedisClient(server);
    const oldApp = legacyExpressApp(legacyStore(oldClient), LEGACY_SECRET);
    oldCookie = (await legacyLogin(oldApp, 60_000)).cookie;
    // Fail fast once the server is gone, instead of queueing and retrying.
    ioredis = new Redis({ host: server.host, port: server.port, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    ioredis.on('error', () => {});
    await ioredis.connect();
    nodeRedis = await nodeRedisClient(server);
    storeClient = await nodeRedisClient(server);
    const sources: [string, LegacySessionSource][] = [
      ['connectRedisSource(ioredis)', connectRedisSource({ client: ioredis })],
      ['connectRedisSource(node-redis)', connectRedisSource({ client: nodeRedis })],
      ['expressSessionStoreSource(RedisStore)', expressSessionStoreSource(legacyStore(storeClient))],
    ];
    for (const [label, source] of sources) {
      const store = new CountingStore();
      apps.push({ label, store, app: await startApp(migratingModule({ source, store }), platform) });
    }
    anonymousApp = await startApp(migratingModule({ source: sources[0]![1], store: new CountingStore(), storeFailure: 'anonymous' }), platform);
    // Sanity: while Redis runs, the cookie migrates (checked on a throwaway session, not oldCookie).
    const probe = await legacyLogin(oldApp, 60_000);
    expect((await http(apps[0]!.app).get('/me').set('Cookie', probe.cookie).expect(200)).body.data).toEqual(OLD_DATA);
    apps[0]!.store.reset();

    oldClient.destroy();
    await server.stop();
  }, 30000);

  afterAll(async () => {
    for (const { app, store } of apps) {
      await app.close();
      store.close();
    }
    await anonymousApp?.close();
    ioredis?.disconnect();
    for (const c of [nodeRedis, storeClient]) if (c?.isOpen) c.destroy();
    await server?.stop();
  });

  it("storeFailure 'reject' (default): 503 with the store message, no cookie set or cleared, for every source", async () => {
    for (const { label, app, store } of apps) {
      const res = await http(app).get('/me').set('Cookie', oldCookie);
      expect({ label, status: res.status }).toEqual({ label, status: 503 });
      expect(String(res.body.message)).toMatch(/session store unavailable/i);
      expect(setCookies(res)).toEqual([]);
      expect(store.calls.write).toBe(0);
    }
  });

  it('a route that does not load the session is unaffected by the outage', async () => {
    for (const { app } of apps) {
      const res = await http(app).get('/lazy').set('Cookie', oldCookie).expect(200);
      expect(setCookies(res)).toEqual([]);
    }
  });

  it("storeFailure 'anonymous': the request goes on with an empty session; the old cookie is kept for a later try", async () => {
    const res = await http(anonymousApp).get('/me').set('Cookie', oldCookie).expect(200);
    expect(res.body.data).toEqual({});
    expect(setCookies(res)).toEqual([]);
  });
});

@Controller()
class EdgeController {
  constructor(private readonly sessions: SessionService) {}

  /** Loads the session, then fails with a 5xx. */
  @Get('boom') boom(@Session() session: SessionData) {
    session.touched = true;
    throw new InternalServerErrorException('handler failed');
  }
  /** Logout without loading the session first (the documented way: works loaded or not). */
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
  }
  /** Logout through express-session's API on the loaded session. */
  @Post('logout-loaded')
  @HttpCode(204)
  async logoutLoaded(@Session() session: SessionData & { destroy(): Promise<void> }) {
    await session.destroy();
  }
  /** A login as Passport 0.7 does it: express-session's regenerate(), then the user. */
  @Post('relogin')
  @HttpCode(200)
  async relogin(@Req() req: unknown, @Session() session: SessionData & { regenerate(): Promise<void> }) {
    const before = { ...session };
    await session.regenerate();
    // regenerate() replaces the request's session object, as express-session does.
    const fresh = this.sessions.get<SessionData>(req);
    fresh.passport = { user: 'u2' };
    return { before, after: { ...fresh } };
  }
  /** Answers through the platform response itself (the cookie is decided at header flush). */
  @Get('raw') async raw(@Req() req: unknown, @Res() res: { header(name: string, value: string): unknown; send(body: string): unknown }) {
    const data = await this.sessions.load(req);
    // Express's res and Fastify's reply both have header() and send().
    res.header('content-type', 'application/json');
    res.send(JSON.stringify({ data: { ...data } }));
  }
  @Get('me') me(@Session() session: SessionData) {
    return { data: { ...session } };
  }
}

function edgeModule(source: LegacySessionSource, store: SessionStore) {
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store,
        cookie: { secure: false },
        logger: false,
        legacy: { secret: [LEGACY_SECRET, LEGACY_OLD_SECRET], source },
      }),
    ],
    controllers: [EdgeController],
  })
  class EdgeAppModule {}
  return EdgeAppModule;
}

describeRedis.each(PLATFORMS)('migration edge paths, Nest on %s', (platform) => {
  let server: RedisServer;
  let oldClient: NodeRedis;
  let ioredis: Redis;
  let oldApp: express.Express;
  let app: INestApplication;
  let cookieStoreApp: INestApplication;
  const store = new CountingStore();

  const exists = async (id: string) => (await redisCommand(server.port, ['EXISTS', `sess:${id}`])) === 1;

  beforeAll(async () => {
    server = await startRedisServer();
    oldClient = await nodeRedisClient(server);
    oldApp = legacyExpressApp(legacyStore(oldClient), LEGACY_SECRET);
    ioredis = new Redis({ host: server.host, port: server.port });
    const source = connectRedisSource({ client: ioredis });
    app = await startApp(edgeModule(source, store), platform);
    cookieStoreApp = await startApp(edgeModule(source, new CookieStore()), platform);
  }, 20000);
  afterAll(async () => {
    await app?.close();
    await cookieStoreApp?.close();
    store.close();
    ioredis?.disconnect();
    oldClient?.destroy();
    await server?.stop();
  });
  beforeEach(() => store.reset());

  it('a 5xx response moves nothing: no cookie set or cleared, the old record stays for the next try', async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).get('/boom').set('Cookie', old.cookie).expect(500);
    expect(setCookies(res)).toEqual([]);
    expect(store.calls.write).toBe(0);
    expect(await exists(old.id)).toBe(true);
    // The next request migrates it as usual.
    const me = await http(app).get('/me').set('Cookie', old.cookie).expect(200);
    expect(me.body.data).toEqual(OLD_DATA);
    expect(await exists(old.id)).toBe(false);
  });

  it('logging out through the loaded session removes the old record and clears the old cookie', async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).post('/logout-loaded').set('Cookie', old.cookie).expect(204);
    expect(sessionCookie(res)).toBeUndefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    expect(await exists(old.id)).toBe(false);
    expect((await http(app).get('/me').set('Cookie', old.cookie).expect(200)).body.data).toEqual({});
  });

  it('logging out with SessionService.destroy(req) without loading removes the old record and clears the old cookie', async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).post('/logout').set('Cookie', old.cookie).expect(204);
    expect(sessionCookie(res)).toBeUndefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    expect(await exists(old.id)).toBe(false);
    // The user stays logged out: the old cookie brings nothing back.
    expect((await http(app).get('/me').set('Cookie', old.cookie).expect(200)).body.data).toEqual({});
  });

  it("a login (express-session's regenerate) on a request with only the old cookie: new ID, old record removed, old cookie cleared", async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).post('/relogin').set('Cookie', old.cookie).expect(200);
    expect(res.body).toEqual({ before: OLD_DATA, after: { passport: { user: 'u2' } } });
    const ours = sessionCookie(res);
    expect(ours).toBeDefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    expect(await exists(old.id)).toBe(false);
    expect((await http(app).get('/me').set('Cookie', ours!).expect(200)).body.data).toEqual({ passport: { user: 'u2' } });
  });

  it('a route answering through @Res() migrates at header flush', async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).get('/raw').set('Cookie', old.cookie).expect(200);
    expect(JSON.parse(res.text).data).toEqual(OLD_DATA);
    const ours = sessionCookie(res);
    expect(ours).toBeDefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    // The store work follows the flush; give it a moment.
    for (let i = 0; i < 50 && (await exists(old.id)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await exists(old.id)).toBe(false);
    expect((await http(app).get('/me').set('Cookie', ours!).expect(200)).body.data).toEqual(OLD_DATA);
  });

  it('with a CookieStore as the new store: the session moves into our cookie and the old record is removed', async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(cookieStoreApp).get('/me').set('Cookie', old.cookie).expect(200);
    expect(res.body.data).toEqual(OLD_DATA);
    const ours = sessionCookie(res);
    expect(ours).toBeDefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    expect((await http(cookieStoreApp).get('/me').set('Cookie', ours!).expect(200)).body.data).toEqual(OLD_DATA);
    expect(await exists(old.id)).toBe(false);
  });
});
