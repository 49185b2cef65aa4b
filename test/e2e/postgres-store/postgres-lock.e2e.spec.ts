/**
 * `@SessionLock()` on PostgresStore, as test/e2e/concurrency runs it for RedisStore: two app
 * instances, each with its own pool and store on one database; requests of one session on a
 * locked route run one at a time across both. The lock is a row with an expiry, taken and
 * released by single statements: no pooled connection is held while a request runs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Session, SessionLock, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import type { PostgresStore } from '../../../src/postgres/index.js';
import { PLATFORMS, SECRET, http, idOf, listen, sessionCookie, startApp } from '../../support/session-app.js';
import { Gate, describePostgres, ownName, openPostgres, since, sleep, type PostgresFixture } from './postgres-e2e-support.js';

import { INCREMENTS, gates, lockAppModule as appModule } from '../concurrency/lock-app.fixture.js';

describe.each(PLATFORMS)('@SessionLock on PostgresStore (%s)', (platform) => {
  const table = ownName(`sk_e2e_lock_${platform}`);

  describePostgres('two app instances, each its own pool and PostgresStore', () => {
    let pg: PostgresFixture;
    const apps: INestApplication[] = [];
    const stores: PostgresStore[] = [];
    const report: string[] = [];
    const app = (i: number) => apps[i % apps.length]!;
    const lockHolder = async (id: string) =>
      (await pg.one<{ token: string }>(`SELECT token FROM "${table}_locks" WHERE id = $1 AND expires_at > clock_timestamp()`, [id]))?.token ?? null;

    /** The release may land just after the response; a normal request leaves no lock behind. */
    async function noLockLeft(id: string): Promise<void> {
      const start = performance.now();
      while ((await lockHolder(id)) !== null) {
        expect(since(start)).toBeLessThan(1000);
        await sleep(10);
      }
    }

    async function newSession(): Promise<string> {
      const cookie = sessionCookie(await http(app(0)).get('/init').expect(200));
      expect(cookie).toBeDefined();
      return cookie!;
    }

    beforeAll(async () => {
      pg = await openPostgres([table]);
      stores.push(pg.store(table), pg.store(table, {}, pg.inspect));
      for (const store of stores) {
        const instance = await startApp(appModule(store), platform);
        await listen(instance);
        apps.push(instance);
      }
      await stores[0]!.init();
    }, 60000);

    // A failed assertion must not leave a handler parked (app.close() would wait for it).
    afterEach(() => gates.current.open());

    afterAll(async () => {
      for (const instance of apps) await instance.close();
      await pg?.stop();
      if (report.length) console.log(`@SessionLock on PostgresStore (${platform}):\n  ${report.join('\n  ')}`);
    });

    it(`${INCREMENTS} parallel increments under @SessionLock() across two instances give exactly ${INCREMENTS}`, async () => {
      const cookie = await newSession();
      const start = performance.now();
      const responses = await Promise.all(Array.from({ length: INCREMENTS }, (_, i) => http(app(i)).get('/inc').set('Cookie', cookie)));
      const ms = since(start);
      expect(responses.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      // Serialized: every response saw a different count, 1..100.
      expect(responses.map((r) => r.body.count as number).sort((a, b) => a - b)).toEqual(Array.from({ length: INCREMENTS }, (_, i) => i + 1));
      const { body } = await http(app(1)).get('/count').set('Cookie', cookie).expect(200);
      expect(body.count).toBe(INCREMENTS);
      // Nothing left behind: no lock row, no checked-out client.
      await noLockLeft(idOf(cookie)!);
      for (const pool of [pg.pool, pg.inspect]) expect(pool.totalCount - pool.idleCount).toBe(0);
      report.push(`${INCREMENTS} locked increments over 2 instances in ${ms} ms -> ${body.count}`);
    }, 60000);

    it('control: the same increments without @SessionLock lose updates', async () => {
      const cookie = await newSession();
      const responses = await Promise.all(Array.from({ length: INCREMENTS }, (_, i) => http(app(i)).get('/inc-unlocked').set('Cookie', cookie)));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      const { body } = await http(app(0)).get('/count').set('Cookie', cookie).expect(200);
      report.push(`${INCREMENTS} unlocked increments -> ${body.count} (lost ${INCREMENTS - body.count})`);
      expect(body.count).toBeLessThan(INCREMENTS);
    }, 60000);

    it('a request that cannot get the lock within `wait` answers 409; a held lock holds no pooled connection', async () => {
      const cookie = await newSession();
      gates.current = new Gate();
      const holder = http(app(0)).get('/hold').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived;
      // The lock is a row; the request holding it holds no client of either pool.
      expect(await lockHolder(idOf(cookie)!)).toEqual(expect.any(String));
      expect(pg.pool.totalCount - pg.pool.idleCount).toBe(0);
      const start = performance.now();
      const refused = await http(app(1)).get('/quick').set('Cookie', cookie);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/session is busy.*lock.*waited 100 ms/i);
      expect(refused.headers['set-cookie']).toBeUndefined();
      expect(since(start)).toBeLessThan(1000);
      gates.current.open();
      expect((await holder).status).toBe(200);
      await http(app(1)).get('/quick').set('Cookie', cookie).expect(200);
    });

    it("a crashed holder's lock expires: the request waits for it (~300 ms) and then succeeds", async () => {
      const cookie = await newSession();
      expect(await stores[1]!.acquireLock(idOf(cookie)!, 'crashed', 300)).toBe(true);
      const start = performance.now();
      const res = await http(app(0)).get('/inc').set('Cookie', cookie);
      const waited = since(start);
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(1);
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(2000);
      report.push(`waited ${waited} ms for a crashed holder's 300 ms lock`);
    });

    it('the lock is released when the request ends, and only by its owner (a token mismatch leaves it)', async () => {
      const cookie = await newSession();
      const id = idOf(cookie)!;
      gates.current = new Gate();
      const holder = http(app(0)).get('/hold-short').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived;
      const own = await lockHolder(id);
      expect(own).toEqual(expect.any(String));
      await sleep(350); // the holder's 200 ms lock expires while its handler still runs
      expect(await lockHolder(id)).toBeNull();
      expect(await stores[1]!.acquireLock(id, 'successor', 5000)).toBe(true);
      gates.current.open();
      expect((await holder).status).toBe(200); // the first holder ends and releases with its own token
      await sleep(100);
      expect(await lockHolder(id)).toBe('successor');
      await http(app(1)).get('/quick').set('Cookie', cookie).expect(409);
      await stores[1]!.releaseLock(id, 'successor');
      await http(app(1)).get('/inc').set('Cookie', cookie).expect(200);
      await noLockLeft(id);
    });
  });
});
