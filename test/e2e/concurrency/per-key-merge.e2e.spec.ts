/**
 * Issue 4, per-key merge (SPEC §6): on a store with field records (MemoryStore, RedisStore on a
 * single node and on a Cluster), concurrent requests of one session that change different keys
 * lose none of them. A custom store without that capability stays last-writer-wins, documented
 * here with a controlled interleaving.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { MemoryStore, Session, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { PLATFORMS, SECRET, http, idOf, listen, sessionCookie, startApp, type Platform } from '../../support/session-app.js';
import { Gate, PlainStore, describeRedis, since, startTopology, type RedisTopology, type TopologyKind } from './support.js';

import { PARALLEL, ROUNDS, gates, mergeAppModule as appModule } from './merge-app.fixture.js';

async function newSession(app: INestApplication): Promise<string> {
  const res = await http(app).get('/set/seed').expect(200);
  const cookie = sessionCookie(res);
  expect(cookie).toBeDefined();
  return cookie!;
}

const keysOf = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);
const timings: string[] = [];

/** The merge scenarios against one store with field records. */
function mergeScenarios(platform: Platform, label: string, connect: () => Promise<{ store: SessionStore; stop(): Promise<void> }>) {
  let app: INestApplication;
  let store: SessionStore;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ store, stop } = await connect());
    app = await startApp(appModule(store), platform);
    await listen(app);
  }, 60000);

  afterAll(async () => {
    await app?.close();
    await stop?.();
  });

  it(`${PARALLEL} parallel requests on one session, each setting its own key, keep all ${PARALLEL} keys (${ROUNDS} rounds, fresh session each)`, async () => {
    const rounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cookie = await newSession(app);
      const start = performance.now();
      const responses = await Promise.all(keysOf(PARALLEL).map((k) => http(app).get(`/set/${k}`).set('Cookie', cookie)));
      rounds.push(since(start));
      for (const res of responses) {
        expect(res.status).toBe(200);
        // Every response names the same session (no request forked a new one).
        expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
      }
      const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
      const missing = keysOf(PARALLEL).filter((k) => body[k] !== `value-of-${k}`);
      expect({ round, missing }).toEqual({ round, missing: [] });
      expect(body.seed).toBe('value-of-seed');
      // What the store holds, decoded independently of the app.
      const stored = await readSessionData(store, idOf(cookie)!);
      expect(Object.keys(stored ?? {}).sort()).toEqual(['seed', ...keysOf(PARALLEL)].sort());
    }
    const total = rounds.reduce((a, b) => a + b, 0);
    timings.push(
      `${label}: ${ROUNDS} rounds x ${PARALLEL} parallel requests: total ${total} ms, ` +
        `per round avg ${Math.round(total / ROUNDS)} ms, min ${Math.min(...rounds)} ms, max ${Math.max(...rounds)} ms`,
    );
  }, 120000);

  it('controlled interleaving: a slow request that loaded first does not drop the key a faster one saved meanwhile', async () => {
    const cookie = await newSession(app);
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
    const cookie = await newSession(app);
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
}

afterAll(() => {
  if (timings.length) console.log(`Per-key merge timings:\n  ${timings.join('\n  ')}`);
});

describe.each(PLATFORMS)('per-key merge (%s)', (platform) => {
  // Each platform gets its own stores (and, for Redis, its own servers).
  describe('per-key merge: MemoryStore', () => {
    mergeScenarios(platform, `MemoryStore (${platform})`, async () => {
      const store = new MemoryStore();
      return { store, stop: async () => store.close() };
    });
  });

  for (const kind of ['single', 'cluster'] as TopologyKind[]) {
    describeRedis(`per-key merge: RedisStore (${kind === 'single' ? 'single node' : '3-master Cluster'})`, () => {
      mergeScenarios(platform, `RedisStore ${kind} (${platform})`, async () => {
        const topology: RedisTopology = await startTopology(kind);
        return { store: new RedisStore({ client: topology.client }), stop: () => topology.stop() };
      });
    });
  }

  describe('a custom store without field records (read/write/remove only): last writer wins', () => {
    let app: INestApplication;
    const store = new PlainStore();

    beforeAll(async () => {
      app = await startApp(appModule(store), platform);
      await listen(app);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('controlled interleaving: the later full write wins, and the key saved in between is lost', async () => {
      const cookie = await newSession(app);
      gates.current = new Gate();
      const slow = http(app).get('/slow-set/a').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived; // A has loaded {seed}
      await http(app).get('/set/b').set('Cookie', cookie).expect(200); // B writes {seed, b}
      gates.current.open();
      expect((await slow).status).toBe(200); // A writes {seed, a}: the whole blob
      const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
      expect(body).toEqual({ seed: 'value-of-seed', a: 'value-of-a' });
      // The module used the plain contract only: whole-record reads and writes.
      expect(store.calls.write).toBeGreaterThan(0);
    });

    it(`${PARALLEL} parallel requests: every answer is 200, the session stays one readable session, and some keys may be lost`, async () => {
      const cookie = await newSession(app);
      const start = performance.now();
      const responses = await Promise.all(keysOf(PARALLEL).map((k) => http(app).get(`/set/${k}`).set('Cookie', cookie)));
      const ms = since(start);
      for (const res of responses) {
        expect(res.status).toBe(200);
        expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
      }
      const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
      const kept = keysOf(PARALLEL).filter((k) => body[k] === `value-of-${k}`);
      // Consistent: the record decodes, holds only keys some request set, and at least the last writer's.
      expect(body.seed).toBe('value-of-seed');
      expect(Object.keys(body).every((k) => k === 'seed' || keysOf(PARALLEL).includes(k))).toBe(true);
      expect(kept.length).toBeGreaterThanOrEqual(1);
      expect(await readSessionData(store, idOf(cookie)!)).toEqual(body);
      timings.push(`PlainStore (no field records, ${platform}): ${PARALLEL} parallel requests in ${ms} ms, ${PARALLEL - kept.length} of ${PARALLEL} keys lost (last writer wins)`);
    });
  });
});
