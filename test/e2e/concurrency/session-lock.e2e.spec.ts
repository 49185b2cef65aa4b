/**
 * Issue 4, `@SessionLock()` (SPEC §6 "opt-in per-session lock"): requests of one session on a
 * locked route run one at a time — across two app instances sharing one Redis, and within one
 * process on a MemoryStore. A waiter gives up with 409; a crashed holder's lock expires; a lock
 * is released only by its owner.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { MemoryStore, Session, SessionLock, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { redisCommand } from '../../support/redis-server.js';
import { PLATFORMS, SECRET, http, idOf, listen, sessionCookie, startApp } from '../../support/session-app.js';
import { Gate, describeRedis, since, sleep, startTopology, type RedisTopology } from './support.js';

import { INCREMENTS, gates, lockAppModule as appModule } from './lock-app.fixture.js';

async function newSession(app: INestApplication): Promise<string> {
  const cookie = sessionCookie(await http(app).get('/init').expect(200));
  expect(cookie).toBeDefined();
  return cookie!;
}

const report: string[] = [];
afterAll(() => {
  if (report.length) console.log(`@SessionLock runs:\n  ${report.join('\n  ')}`);
});

/**
 * The lock scenarios; `apps` are instances sharing one store backend (requests alternate
 * between them), `lockKey` the way to inspect and plant a lock from outside the app.
 */
function lockScenarios(
  label: string,
  setup: () => Promise<{
    apps: INestApplication[];
    /** Plants a foreign lock (a crashed holder's) for `ms`. */
    plantLock(id: string, token: string, ms: number): Promise<boolean>;
    /** The token currently holding the lock of `id`, or null. */
    lockHolder(id: string): Promise<string | null>;
    dropLock(id: string, token: string): Promise<void>;
  }>,
) {
  let ctx: Awaited<ReturnType<typeof setup>>;
  const app = (i: number) => ctx.apps[i % ctx.apps.length]!;

  beforeAll(async () => {
    ctx = await setup();
  }, 60000);

  // A failed assertion must not leave a handler parked (app.close() would wait for it).
  afterEach(() => gates.current.open());

  it(`${INCREMENTS} parallel increments under @SessionLock() give exactly ${INCREMENTS}`, async () => {
    const cookie = await newSession(app(0));
    const start = performance.now();
    const responses = await Promise.all(
      Array.from({ length: INCREMENTS }, (_, i) => http(app(i)).get('/inc').set('Cookie', cookie)),
    );
    const ms = since(start);
    expect(responses.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    // Serialized: every response saw a different count, 1..100.
    expect(responses.map((r) => r.body.count as number).sort((a, b) => a - b)).toEqual(Array.from({ length: INCREMENTS }, (_, i) => i + 1));
    const { body } = await http(app(1)).get('/count').set('Cookie', cookie).expect(200);
    expect(body.count).toBe(INCREMENTS);
    report.push(`${label}: ${INCREMENTS} locked increments over ${ctx.apps.length} instance(s) in ${ms} ms -> ${body.count}`);
  }, 60000);

  it('control: the same increments without @SessionLock lose updates', async () => {
    const cookie = await newSession(app(0));
    const responses = await Promise.all(
      Array.from({ length: INCREMENTS }, (_, i) => http(app(i)).get('/inc-unlocked').set('Cookie', cookie)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const { body } = await http(app(0)).get('/count').set('Cookie', cookie).expect(200);
    report.push(`${label}: ${INCREMENTS} unlocked increments -> ${body.count} (lost ${INCREMENTS - body.count})`);
    expect(body.count).toBeLessThan(INCREMENTS);
  }, 60000);

  it('a request that cannot get the lock within `wait` answers 409 with a clear message; later it gets it', async () => {
    const cookie = await newSession(app(0));
    gates.current = new Gate();
    const holder = http(app(0)).get('/hold').set('Cookie', cookie).then((r) => r);
    await gates.current.arrived;
    const start = performance.now();
    const refused = await http(app(1)).get('/quick').set('Cookie', cookie);
    const waited = since(start);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/session is busy.*lock.*waited 100 ms/i);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(waited).toBeLessThan(1000);
    report.push(`${label}: 409 after waiting ${waited} ms (wait: 100)`);
    gates.current.open();
    expect((await holder).status).toBe(200);
    await http(app(1)).get('/quick').set('Cookie', cookie).expect(200);
    const { body } = await http(app(0)).get('/count').set('Cookie', cookie).expect(200);
    expect(body.count).toBe(0);
  });

  it('a waiter keeps trying until `wait` has passed: a lock that expires at 85 ms of a 100 ms wait is taken', async () => {
    const cookie = await newSession(app(0));
    // A foreign lock that expires on its own, precisely, 85 ms from now: no handler timing involved.
    expect(await ctx.plantLock(idOf(cookie)!, 'othertoken', 85)).toBe(true);
    const start = performance.now();
    const res = await http(app(1)).get('/quick').set('Cookie', cookie);
    report.push(`${label}: waiter with wait 100, foreign lock expiring at 85 ms -> ${res.status} after ${since(start)} ms`);
    expect(res.status).toBe(200);
  });

  it("a crashed holder's lock expires: the request waits for it (~300 ms) and then succeeds", async () => {
    const cookie = await newSession(app(0));
    const id = idOf(cookie)!;
    expect(await ctx.plantLock(id, 'othertoken', 300)).toBe(true);
    const start = performance.now();
    const res = await http(app(1)).get('/inc').set('Cookie', cookie);
    const waited = since(start);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(1);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2000);
    report.push(`${label}: waited ${waited} ms for a crashed holder's 300 ms lock`);
  });

  it('the lock is released when the request ends, and only by its owner (a token mismatch leaves it)', async () => {
    const cookie = await newSession(app(0));
    const id = idOf(cookie)!;
    gates.current = new Gate();
    const holder = http(app(0)).get('/hold-short').set('Cookie', cookie).then((r) => r);
    await gates.current.arrived;
    const ownToken = await ctx.lockHolder(id);
    expect(ownToken).toEqual(expect.any(String));
    expect(ownToken).not.toBe('othertoken');
    await sleep(350); // the holder's 200 ms lock expires while its handler still runs
    expect(await ctx.lockHolder(id)).toBeNull();
    expect(await ctx.plantLock(id, 'othertoken', 5000)).toBe(true); // a successor takes it
    gates.current.open();
    expect((await holder).status).toBe(200); // the first holder ends and releases with its own token
    await sleep(100);
    expect(await ctx.lockHolder(id)).toBe('othertoken');
    await http(app(1)).get('/quick').set('Cookie', cookie).expect(409);
    // Once the successor lets go, the session is usable again, and a normal request leaves no lock behind.
    await ctx.dropLock(id, 'othertoken');
    await http(app(1)).get('/inc').set('Cookie', cookie).expect(200);
    await sleep(50);
    expect(await ctx.lockHolder(id)).toBeNull();
  });
}

describe.each(PLATFORMS)('@SessionLock (%s)', (platform) => {
  // Each platform gets its own store (and, for Redis, its own server).
  describe('@SessionLock on a MemoryStore (one instance, in-process lock)', () => {
    const store = new MemoryStore();
    let app: INestApplication;
    afterAll(async () => {
      await app?.close();
      store.close();
    });
    /** MemoryStore keeps its lock table privately: looked at (read-only) for the holder's token. */
    const table = () => (store as unknown as { locks: { locks: Map<string, { token: string; expiresAt: number }> } }).locks.locks;
    lockScenarios(`MemoryStore (${platform})`, async () => {
      app = await startApp(appModule(store), platform);
      await listen(app);
      return {
        apps: [app],
        plantLock: (id, token, ms) => store.acquireLock(id, token, ms),
        lockHolder: async (id) => {
          const held = table().get(id);
          return held && held.expiresAt > Date.now() ? held.token : null;
        },
        dropLock: (id, token) => store.releaseLock(id, token),
      };
    });
  });

  describeRedis('@SessionLock on Redis (single node): two app instances, each its own client and RedisStore', () => {
    let topology: RedisTopology;
    const apps: INestApplication[] = [];
    afterAll(async () => {
      for (const app of apps) await app.close();
      await topology?.stop();
    });
    lockScenarios(`RedisStore, 2 instances (${platform})`, async () => {
      topology = await startTopology('single');
      const port = topology.ports[0]!;
      const clients: (Redis | Cluster)[] = [topology.client, await topology.newClient()];
      for (const client of clients) {
        const app = await startApp(appModule(new RedisStore({ client })), platform);
        await listen(app);
        apps.push(app);
      }
      const lockKey = (id: string) => `sess:${id}:lock`;
      return {
        apps,
        plantLock: async (id, token, ms) => (await redisCommand(port, ['SET', lockKey(id), token, 'PX', String(ms), 'NX'])) === 'OK',
        lockHolder: async (id) => (await redisCommand(port, ['GET', lockKey(id)])) as string | null,
        dropLock: async (id) => void (await redisCommand(port, ['DEL', lockKey(id)])),
      };
    });
  });
});
