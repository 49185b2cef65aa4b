/**
 * Per-key merge on PostgresStore (SPEC §6), as test/e2e/concurrency runs it for RedisStore:
 * concurrent requests of one session that change different keys lose none of them, because a
 * commit is one UPDATE that merges its changed fields into the row (and drops removed ones).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { PLATFORMS, SECRET, http, idOf, listen, sessionCookie, startApp } from '../../support/session-app.js';
import { Gate, describePostgres, ownName, kindOf, openPostgres, since, type PostgresFixture } from './postgres-e2e-support.js';

import { PARALLEL, ROUNDS, gates, mergeAppModule as appModule } from '../concurrency/merge-app.fixture.js';

const keysOf = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe.each(PLATFORMS)('per-key merge on PostgresStore (%s)', (platform) => {
  const table = ownName(`sk_e2e_merge_${platform}`);

  describePostgres('concurrent requests of one session merge', () => {
    let pg: PostgresFixture;
    let store: SessionStore;
    let app: INestApplication;
    const timings: string[] = [];

    async function newSession(): Promise<string> {
      const res = await http(app).get('/set/seed').expect(200);
      const cookie = sessionCookie(res);
      expect(cookie).toBeDefined();
      return cookie!;
    }

    beforeAll(async () => {
      pg = await openPostgres([table]);
      store = pg.store(table);
      app = await startApp(appModule(store), platform);
      await listen(app);
    }, 60000);

    afterEach(() => gates.current.open());

    afterAll(async () => {
      await app?.close();
      await pg?.stop();
      if (timings.length) console.log(`PostgresStore per-key merge (${platform}):\n  ${timings.join('\n  ')}`);
    });

    it(`${PARALLEL} parallel requests on one session, each setting its own key, keep all ${PARALLEL} keys (${ROUNDS} rounds, fresh session each)`, async () => {
      const rounds: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const cookie = await newSession();
        pg.take();
        const start = performance.now();
        const responses = await Promise.all(keysOf(PARALLEL).map((k) => http(app).get(`/set/${k}`).set('Cookie', cookie)));
        rounds.push(since(start));
        for (const res of responses) {
          expect(res.status).toBe(200);
          expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
        }
        // Each request: one SELECT and one merging UPDATE.
        const kinds = pg.take().map(kindOf);
        expect({ selects: kinds.filter((k) => k === 'SELECT').length, merges: kinds.filter((k) => k === 'UPDATE (merge)').length, all: kinds.length }).toEqual({
          selects: PARALLEL,
          merges: PARALLEL,
          all: 2 * PARALLEL,
        });
        const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
        const missing = keysOf(PARALLEL).filter((k) => body[k] !== `value-of-${k}`);
        expect({ round, missing }).toEqual({ round, missing: [] });
        expect(body.seed).toBe('value-of-seed');
        // What the row holds, decoded independently of the app.
        const stored = await readSessionData(store, idOf(cookie)!);
        expect(Object.keys(stored ?? {}).sort()).toEqual(['seed', ...keysOf(PARALLEL)].sort());
      }
      const total = rounds.reduce((a, b) => a + b, 0);
      timings.push(
        `${ROUNDS} rounds x ${PARALLEL} parallel requests: total ${total} ms, per round avg ${Math.round(total / ROUNDS)} ms, ` +
          `min ${Math.min(...rounds)} ms, max ${Math.max(...rounds)} ms`,
      );
    }, 120000);

    it('controlled interleaving: a slow request that loaded first does not drop the key a faster one saved meanwhile', async () => {
      const cookie = await newSession();
      gates.current = new Gate();
      const slow = http(app).get('/slow-set/a').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived; // A has loaded {seed}
      await http(app).get('/set/b').set('Cookie', cookie).expect(200); // B saves b
      gates.current.open();
      expect((await slow).status).toBe(200); // A saves a, having never seen b
      const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
      expect(body).toEqual({ seed: 'value-of-seed', a: 'value-of-a', b: 'value-of-b' });
    });

    it('a concurrent delete of one key and set of another both persist', async () => {
      const cookie = await newSession();
      await http(app).get('/set/gone').set('Cookie', cookie).expect(200);
      gates.current = new Gate();
      const slow = http(app).get('/slow-set/late').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived; // loaded {seed, gone}
      await http(app).get('/unset/gone').set('Cookie', cookie).expect(200);
      gates.current.open();
      expect((await slow).status).toBe(200);
      const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
      // The slow request still held `gone` unchanged: it must not write it back.
      expect(body).toEqual({ seed: 'value-of-seed', late: 'value-of-late' });
    });
  });
});
