/**
 * Load with invariants: many virtual users, each with its own cookie jar, each incrementing its
 * own counter sequentially while all users run at once, on the memory store and on a real Redis.
 *
 *   every counter exact · 0 non-2xx · no response carrying another user's session ·
 *   one stored record per user (no orphans, no duplicates)
 *
 * Sizes: 50 users × 40 increments (CI=true and plain `npm test`); LOAD_FULL=1 for 200 × 200.
 * Throughput and latency percentiles are printed, never asserted (SPEC §7).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { MemoryStore } from '../../src/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { type RedisServer, redisAvailable, redisCommand, startRedisServer } from '../support/redis-server.js';
import { type CounterBody, startCounterApp } from './counter-app.js';
import { FULL, Jar, LoadClient, fmt, holds, idOfPair, listenOn, percentile, type Reply } from './load-support.js';

const USERS = FULL ? 200 : 50;
const INCREMENTS = FULL ? 200 : 40;
/** Wall-clock bound of one scenario: past it the users stop and the run fails. */
const SCENARIO_LIMIT_MS = FULL ? 240_000 : 45_000;

interface Outcome {
  requests: number;
  elapsedMs: number;
  latencies: number[];
  non2xx: number;
  violations: string[];
  sessionIds: string[];
}

function parse(reply: Reply): CounterBody | undefined {
  try {
    return JSON.parse(reply.body) as CounterBody;
  } catch {
    return undefined;
  }
}

/** USERS users at once; each logs in, increments INCREMENTS times in sequence, then reads back. */
async function runUsers(port: number): Promise<Outcome> {
  const client = new LoadClient(port, USERS);
  const outcome: Outcome = { requests: 0, elapsedMs: 0, latencies: [], non2xx: 0, violations: [], sessionIds: [] };
  const started = performance.now();
  const deadline = started + SCENARIO_LIMIT_MS;
  const violation = (text: string) => {
    if (outcome.violations.length < 50) outcome.violations.push(text);
  };
  const send = async (path: string, jar: Jar, user: string, what: string): Promise<{ reply: Reply; body?: CounterBody }> => {
    const reply = await client.get(path, jar.pair);
    outcome.requests++;
    outcome.latencies.push(reply.ms);
    if (reply.status < 200 || reply.status > 299) {
      outcome.non2xx++;
      violation(`${user} ${what}: status ${reply.status}${reply.error ? ` (${reply.error})` : ''} ${reply.body.slice(0, 120)}`);
    }
    return { reply, body: parse(reply) };
  };

  const user = async (index: number) => {
    const me = `u${index}`;
    const jar = new Jar();
    const login = await send(`/login?user=${me}`, jar, me, 'login');
    const pair = jar.take(login.reply.setCookies);
    if (!pair) return violation(`${me} login: no session cookie`);
    const id = idOfPair(pair);
    outcome.sessionIds.push(id);
    for (let i = 1; i <= INCREMENTS; i++) {
      if (performance.now() > deadline) return violation(`${me}: scenario time limit reached at increment ${i}`);
      const { reply, body } = await send('/inc', jar, me, `increment ${i}`);
      if (body?.user !== me) violation(`${me} increment ${i}: got the session of ${JSON.stringify(body?.user)}`);
      if (body?.count !== i) violation(`${me} increment ${i}: counter ${JSON.stringify(body?.count)}`);
      const renewed = jar.take(reply.setCookies);
      if (renewed !== undefined && idOfPair(renewed) !== id) violation(`${me} increment ${i}: session ID changed`);
      if (jar.pair === undefined) return violation(`${me} increment ${i}: session cookie cleared`);
    }
    const { body } = await send('/peek', jar, me, 'read back');
    if (body?.user !== me || body.count !== INCREMENTS) violation(`${me} read back: ${JSON.stringify(body)}`);
  };

  try {
    await Promise.all(Array.from({ length: USERS }, (_, index) => user(index)));
  } finally {
    outcome.elapsedMs = performance.now() - started;
    client.close();
  }
  return outcome;
}

function report(label: string, outcome: Outcome): void {
  const rps = outcome.requests / (outcome.elapsedMs / 1000);
  console.log(
    `[load invariants] ${label}: ${USERS} users × ${INCREMENTS} increments = ${outcome.requests} requests in ` +
      `${(outcome.elapsedMs / 1000).toFixed(2)} s → ${rps.toFixed(0)} req/s; latency p50 ${fmt(percentile(outcome.latencies, 50))}, ` +
      `p99 ${fmt(percentile(outcome.latencies, 99))}, max ${fmt(Math.max(...outcome.latencies))}; ` +
      `non-2xx ${outcome.non2xx}; violations ${outcome.violations.length}`,
  );
}

function expectInvariants(outcome: Outcome): void {
  expect(outcome.violations).toEqual([]);
  expect(outcome.non2xx).toBe(0);
  expect(outcome.requests).toBe(USERS * (INCREMENTS + 2));
  // Every user had a session of its own.
  expect(outcome.sessionIds).toHaveLength(USERS);
  expect(new Set(outcome.sessionIds).size).toBe(USERS);
}

describe(`load with invariants: ${USERS} users × ${INCREMENTS} increments, memory store`, () => {
  let app: INestApplication;
  let store: MemoryStore;
  let port: number;

  beforeAll(async () => {
    store = new MemoryStore();
    app = await startCounterApp(store);
    port = await listenOn(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    store?.close();
  });

  it('every counter exact, 0 non-2xx, no user ever sees another user’s session, one record per user', async () => {
    const outcome = await runUsers(port);
    report('memory store', outcome);
    expectInvariants(outcome);
    expect(store.size).toBe(USERS);
    for (const id of outcome.sessionIds) expect(await holds(store, id)).toBe(true);
  }, SCENARIO_LIMIT_MS + 15_000);
});

const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis(`load with invariants: ${USERS} users × ${INCREMENTS} increments, RedisStore on a real redis-server`, () => {
  let server: RedisServer;
  let client: Redis;
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis({ host: server.host, port: server.port });
    client.on('error', () => {});
    await client.ping();
    app = await startCounterApp(new RedisStore({ client }));
    port = await listenOn(app.getHttpServer());
  }, 20_000);
  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    await server?.stop();
  });

  it('every counter exact, 0 non-2xx, no user ever sees another user’s session, one key per user', async () => {
    const outcome = await runUsers(port);
    report('RedisStore', outcome);
    expectInvariants(outcome);
    // Checked on the server itself, not through the client under test.
    expect(await redisCommand(server.port, ['DBSIZE'])).toBe(USERS);
    for (const id of outcome.sessionIds.slice(0, 5)) {
      const ttl = (await redisCommand(server.port, ['PTTL', `sess:${id}`])) as number;
      expect(ttl).toBeGreaterThan(0); // every key carries a TTL
    }
  }, SCENARIO_LIMIT_MS + 15_000);
});
