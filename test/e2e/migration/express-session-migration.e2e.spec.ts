/**
 * Zero-logout migration from express-session (SPEC §11.3), end to end against the real
 * libraries. The old sessions are created IN THE TEST by a real Express app running the real
 * express-session + connect-redis (node-redis client), backed by a redis-server this file
 * starts; then the new Nest app (this module, `legacy: { secret, source }`) receives the old
 * cookie. nestjs-session wraps express-session, so its cookie and records are the same as
 * here (see migration-support.ts).
 *
 * Every scenario runs for each source the brief names (connectRedisSource over ioredis, over
 * node-redis, and expressSessionStoreSource over connect-redis's own RedisStore) on Express and
 * on Fastify.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { connectRedisSource, expressSessionStoreSource, type LegacySessionSource } from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { type RedisServer, redisAvailable, redisCommand, sleep, startRedisServer } from '../../support/redis-server.js';
import { PLATFORMS, http, idOf, sessionCookie, setCookies, startApp, type Platform } from '../../support/session-app.js';
import {
  FOREIGN_SECRET,
  LEGACY_OLD_SECRET,
  LEGACY_SECRET,
  OLD_DATA,
  counted,
  isClearingOfConnectSid,
  legacyClearing,
  legacyExpressApp,
  legacyLogin,
  legacyStore,
  nodeRedisClient,
  type NodeRedis,
  migratingModule,
  type CountedSource,
} from './migration-support.js';

interface SourceUnderTest {
  source: LegacySessionSource;
  close(): Promise<void> | void;
}


const SOURCES: [string, (server: RedisServer) => Promise<SourceUnderTest>][] = [
  [
    'connectRedisSource({ client: ioredis })',
    async (server) => {
      const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
      await client.connect();
      return { source: connectRedisSource({ client }), close: () => client.disconnect() };
    },
  ],
  [
    'connectRedisSource({ client: node-redis })',
    async (server) => {
      const client = await nodeRedisClient(server);
      return { source: connectRedisSource({ client }), close: () => client.destroy() };
    },
  ],
  [
    'expressSessionStoreSource(new RedisStore({ client: node-redis }))',
    async (server) => {
      const client = await nodeRedisClient(server);
      return { source: expressSessionStoreSource(legacyStore(client)), close: () => client.destroy() };
    },
  ],
];

const CASES = PLATFORMS.flatMap((platform) => SOURCES.map(([label, make]) => [label, platform, make] as const));

const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis('migration from express-session + connect-redis (real apps, real Redis)', () => {
  let server: RedisServer;
  let oldClient: NodeRedis;
  /** The old app, signing with LEGACY_SECRET (and still accepting LEGACY_OLD_SECRET). */
  let oldApp: express.Express;
  /** The old app as it was before its last secret rotation. */
  let olderApp: express.Express;
  /** Another express-session app on the same Redis, with a secret the Nest app does not know. */
  let foreignApp: express.Express;

  const exists = async (id: string) => (await redisCommand(server.port, ['EXISTS', `sess:${id}`])) === 1;
  const raw = (id: string) => redisCommand(server.port, ['GET', `sess:${id}`]);

  beforeAll(async () => {
    server = await startRedisServer();
    oldClient = await nodeRedisClient(server);
    const store = legacyStore(oldClient);
    oldApp = legacyExpressApp(store, [LEGACY_SECRET, LEGACY_OLD_SECRET]);
    olderApp = legacyExpressApp(store, LEGACY_OLD_SECRET);
    foreignApp = legacyExpressApp(store, FOREIGN_SECRET);
  }, 20000);

  afterAll(async () => {
    oldClient?.destroy();
    await server?.stop();
  });

  describe.each(CASES)('%s, Nest on %s', (_label, platform: Platform, makeSource) => {
    let app: INestApplication;
    let source: CountedSource;
    let under: SourceUnderTest;
    const store = new CountingStore();

    beforeAll(async () => {
      under = await makeSource(server);
      source = counted(under.source);
      app = await startApp(migratingModule({ source, store }), platform);
    });
    afterAll(async () => {
      await app?.close();
      await under?.close();
      store.close();
    });
    beforeEach(() => {
      store.reset();
      source.calls.get.length = source.calls.destroy.length = 0;
    });

    it('moves the old session: the handler sees the old data, the response sets our cookie under a fresh ID and clears connect.sid, the old key is gone', async () => {
      // A browser-session cookie (no maxAge): connect-redis stores `expires: null`.
      const old = await legacyLogin(oldApp);
      expect(await exists(old.id)).toBe(true);
      // The old app serves it, as it did until the switch.
      expect((await request(oldApp).get('/whoami').set('Cookie', old.cookie).expect(200)).body).toEqual(OLD_DATA);

      const res = await http(app).post('/visit').set('Cookie', old.cookie).expect(200);
      // The handler had the old data (Passport's `passport.user` included), and changed it.
      expect(res.body.data).toEqual({ ...OLD_DATA, visits: OLD_DATA.visits + 1 });
      expect(res.body.data).not.toHaveProperty('cookie');

      const ours = sessionCookie(res);
      expect(ours).toBeDefined();
      const newId = idOf(ours)!;
      expect(newId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(newId).not.toBe(old.id);
      expect(ours).not.toContain(old.id);
      expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
      expect(setCookies(res)).toHaveLength(2);

      expect(await exists(old.id)).toBe(false);
      expect(source.calls).toEqual({ get: [old.id], destroy: [old.id] });
      expect(store.calls.write).toBe(1);

      // The next request, with only our cookie, sees the same session; the source is not asked again.
      source.calls.get.length = source.calls.destroy.length = 0;
      const next = await http(app).get('/me').set('Cookie', ours!).expect(200);
      expect(next.body.data).toEqual({ ...OLD_DATA, visits: OLD_DATA.visits + 1 });
      expect(next.body.data.passport).toEqual({ user: 'u1' });
      expect(next.body.keys).toEqual(Object.keys(OLD_DATA));
      expect(setCookies(next)).toEqual([]);
      expect(source.calls).toEqual({ get: [], destroy: [] });

      // A browser that kept the old cookie too (say it ignored the clearing): ours wins, nothing is re-read.
      const both = await http(app).get('/me').set('Cookie', `${old.cookie}; ${ours}`).expect(200);
      expect(both.body.data.passport).toEqual({ user: 'u1' });
      expect(source.calls).toEqual({ get: [], destroy: [] });

      // The old app no longer has it: the session lives in one place only.
      expect((await request(oldApp).get('/whoami').set('Cookie', old.cookie).expect(200)).body).toEqual({});
    });

    it('a read-only route that loads the session migrates too (with a maxAge cookie)', async () => {
      const old = await legacyLogin(oldApp, 3_600_000);
      const res = await http(app).get('/me').set('Cookie', old.cookie).expect(200);
      expect(res.body.data).toEqual(OLD_DATA);
      expect(res.body.keys).toEqual(Object.keys(OLD_DATA));
      const ours = sessionCookie(res);
      expect(ours).toBeDefined();
      expect(idOf(ours)).not.toBe(old.id);
      expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
      expect(await exists(old.id)).toBe(false);
      expect(store.calls.write).toBe(1);

      const next = await http(app).get('/me').set('Cookie', ours!).expect(200);
      expect(next.body.data).toEqual(OLD_DATA);
    });

    it('an old cookie signed by an older secret in the list is accepted', async () => {
      const old = await legacyLogin(olderApp, 60_000);
      const res = await http(app).get('/me').set('Cookie', old.cookie).expect(200);
      expect(res.body.data).toEqual(OLD_DATA);
      const ours = sessionCookie(res);
      expect(ours).toBeDefined();
      expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
      expect(await exists(old.id)).toBe(false);
      expect((await http(app).get('/me').set('Cookie', ours!).expect(200)).body.data.passport).toEqual({ user: 'u1' });
    });

    it('a cookie of another secret does nothing: a fresh empty session, no migration, old record untouched', async () => {
      const old = await legacyLogin(foreignApp, 60_000);
      const before = await raw(old.id);
      const res = await http(app).get('/me').set('Cookie', old.cookie).expect(200);
      expect(res.body.data).toEqual({});
      // An empty new session sends no cookie; the foreign cookie is not ours to clear.
      expect(setCookies(res)).toEqual([]);
      // Refused on its signature, before any read.
      expect(source.calls).toEqual({ get: [], destroy: [] });
      expect(store.total()).toBe(0);
      expect(await raw(old.id)).toBe(before);

      // A write on such a request starts a new session of ours, still without touching the old one.
      const visit = await http(app).post('/visit').set('Cookie', old.cookie).expect(200);
      expect(visit.body.data).toEqual({ visits: 1 });
      expect(sessionCookie(visit)).toBeDefined();
      expect(legacyClearing(visit)).toBeUndefined();
      expect(await raw(old.id)).toBe(before);
      await redisCommand(server.port, ['DEL', `sess:${old.id}`]);
    });

    it('an expired old session is refused and its cookie cleared, whether Redis still holds the record or not', async () => {
      // Record outlives its cookie (as with connect-redis `disableTTL`, or a longer `ttl`).
      const stale = await legacyLogin(oldApp, 1000);
      await redisCommand(server.port, ['PERSIST', `sess:${stale.id}`]);
      // Record expired by Redis itself (connect-redis sets the TTL from cookie.expires).
      const gone = await legacyLogin(oldApp, 1000);
      await sleep(2100);
      expect(await exists(stale.id)).toBe(true);
      expect(await exists(gone.id)).toBe(false);

      for (const old of [stale, gone]) {
        const res = await http(app).get('/me').set('Cookie', old.cookie).expect(200);
        expect(res.body.data).toEqual({});
        expect(sessionCookie(res)).toBeUndefined();
        expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
        expect(store.calls.write).toBe(0);
      }
      expect(source.calls.get).toEqual([stale.id, gone.id]);
      // The refused record is removed too.
      expect(await exists(stale.id)).toBe(false);
    });

    it('a route that never loads the session does nothing (lazy): no store or source call, no cookie, old record kept', async () => {
      const old = await legacyLogin(oldApp, 60_000);
      const before = await raw(old.id);
      const res = await http(app).get('/lazy').set('Cookie', old.cookie).expect(200);
      expect(res.body).toEqual({ ok: true });
      expect(setCookies(res)).toEqual([]);
      expect(source.calls).toEqual({ get: [], destroy: [] });
      expect(store.total()).toBe(0);
      expect(await raw(old.id)).toBe(before);

      // It is migrated by the first request that does load it.
      const me = await http(app).get('/me').set('Cookie', old.cookie).expect(200);
      expect(me.body.data).toEqual(OLD_DATA);
      expect(await exists(old.id)).toBe(false);
    });
  });
});
