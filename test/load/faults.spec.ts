/**
 * Faults under load.
 *
 * 1. A real redis-server is SIGKILLed while virtual users hammer two apps on it (storeFailure
 *    'reject' and 'anonymous', ioredis on its defaults except a bounded reconnect delay), then
 *    restarted: during the outage every request ends within the store budget (RedisStore
 *    timeout 1000 ms; asserted < 1500 ms) with the storeFailure outcome and no session cookie;
 *    within 2 s of the restart requests are 2xx with a persisted session again, and stay so.
 * 2. The same server SIGSTOPped (5 s; 3 s under CI) and continued: no request waits longer than
 *    budget + slack; same outcomes; recovery measured.
 * 3. A flood of new sessions (200k; 50k under CI) through the HTTP app into a MemoryStore with
 *    maxEntries 10k: store.size never above 10k (sampled during the flood), heap growth bounded,
 *    p99 latency flat (first vs last 10% of requests).
 *
 * Every figure is printed (console.log) so that it shows in CI output. Timing assertions are
 * correctness bounds of the failure budget (SPEC §5, §10.14), not performance targets.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { MemoryStore, type StoreFailureMode } from '../../src/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { type RedisServer, redisAvailable, sleep, startRedisServer } from '../support/redis-server.js';
import { type CounterBody, startCounterApp } from './counter-app.js';
import { CI, FULL, Jar, LoadClient, fmt, holds, idOfPair, listenOn, mb, percentile, pool, settledHeap, sidPair, type Reply } from './load-support.js';

const BUDGET_MS = 1000; // RedisStore's default timeout
const LIMIT_MS = 1500; // budget + slack
const RECOVERY_LIMIT_MS = 2000;
const USERS_PER_APP = FULL ? 25 : 10;
const OUTAGE_MS = FULL ? 4000 : 2500;
const PAUSE_MS = CI && !FULL ? 3000 : 5000;
const WARM_MS = 600;
const AFTER_MS = 3000;
/** Hard cap on one user's requests in one scenario (the loops are also bounded by `stop`). */
const MAX_REQUESTS_PER_USER = 2000;

interface Sample extends Reply {
  app: StoreFailureMode;
  user: string;
  parsed?: CounterBody;
}

class Fleet {
  readonly samples: Sample[] = [];
  readonly violations: string[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly targets: { mode: StoreFailureMode; client: LoadClient }[]) {}

  /** Every user logs in, then increments in a loop until `stop()` (re-adopting a lost session). */
  async start(): Promise<void> {
    this.stopped = false;
    const ready: Promise<void>[] = [];
    for (const { mode, client } of this.targets) {
      for (let u = 0; u < USERS_PER_APP; u++) {
        const me = `${mode}-u${u}`;
        const jar = new Jar();
        let loggedIn!: () => void;
        ready.push(new Promise<void>((resolve) => (loggedIn = resolve)));
        this.loops.push(this.user(client, mode, me, jar, loggedIn));
      }
    }
    await Promise.all(ready);
  }

  private async user(client: LoadClient, mode: StoreFailureMode, me: string, jar: Jar, loggedIn: () => void): Promise<void> {
    const login = await client.get(`/login?user=${me}`);
    loggedIn();
    if (login.status !== 200 || !jar.take(login.setCookies)) {
      this.violations.push(`${me}: login failed (${login.status})`);
      return;
    }
    const deadline = performance.now() + 120_000;
    for (let i = 0; i < MAX_REQUESTS_PER_USER && !this.stopped && performance.now() < deadline; i++) {
      const reply = await client.get(`/inc?adopt=${me}`, jar.pair);
      let parsed: CounterBody | undefined;
      try {
        parsed = JSON.parse(reply.body) as CounterBody;
      } catch {
        parsed = undefined;
      }
      if (reply.status === 200 && parsed?.user !== me) this.violations.push(`${me}: got the session of ${JSON.stringify(parsed?.user)}`);
      this.samples.push({ ...reply, app: mode, user: me, parsed });
      jar.take(reply.setCookies);
      // 503s come back at once once ioredis fails fast; do not spin.
      if (reply.status !== 200) await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.loops = [];
  }
}

const ok = (s: Sample) => s.status >= 200 && s.status < 300;
/** A 2xx whose session was persisted (the counter route always re-sends the cookie then). */
const persisted = (s: Sample) => ok(s) && sidPair(s.setCookies) !== undefined;

/**
 * Recovery of `mode` after Redis is back at `backAt`: when the first persisted 2xx was answered
 * (ms after `backAt`), and the requests started after that answer (which must all succeed).
 */
function recovery(samples: Sample[], mode: StoreFailureMode, backAt: number): { firstOkMs: number; after: Sample[] } {
  const mine = samples.filter((s) => s.app === mode);
  const firstOk = Math.min(...mine.filter((s) => s.end >= backAt && persisted(s)).map((s) => s.end));
  return { firstOkMs: firstOk - backAt, after: mine.filter((s) => s.start >= firstOk) };
}

function latencySummary(samples: Sample[]): string {
  if (samples.length === 0) return 'no requests';
  const ms = samples.map((s) => s.ms);
  return `${samples.length} requests, min ${fmt(Math.min(...ms))}, p50 ${fmt(percentile(ms, 50))}, max ${fmt(Math.max(...ms))}`;
}

/** After recovery, each user's counter goes up by exactly one per request (nothing lost, nothing mixed). */
function expectConsecutiveCounts(samples: Sample[]): void {
  const byUser = new Map<string, number[]>();
  for (const s of [...samples].sort((a, b) => a.start - b.start)) byUser.set(s.user, [...(byUser.get(s.user) ?? []), s.parsed!.count]);
  const broken = [...byUser].filter(([, counts]) => counts.some((c, i) => i > 0 && c !== counts[i - 1]! + 1));
  expect(broken.map(([user, counts]) => `${user}: ${counts.join(',')}`)).toEqual([]);
}

const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis('Redis faults under load (ioredis defaults but a bounded reconnect policy; RedisStore timeout 1000 ms)', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const apps: INestApplication[] = [];
  const http: { mode: StoreFailureMode; client: LoadClient }[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    for (const mode of ['reject', 'anonymous'] as const) {
      // ioredis's defaults (offline queue, 20 retries per request): the store's own timer is the
      // bound. Except the reconnect policy: ioredis 6 backs off exponentially up to 5 s (+ jitter),
      // so after a few seconds down it may not even try again for 5 s. The README recommends a
      // bounded policy; with at most 300 ms between attempts, any recovery slower than that is the
      // module's doing.
      const redis = new Redis({ host: server.host, port: server.port, retryStrategy: (times) => Math.min(times * 50, 300) });
      redis.on('error', () => {});
      await redis.ping();
      clients.push(redis);
      const app = await startCounterApp(new RedisStore({ client: redis }), mode);
      apps.push(app);
      http.push({ mode, client: new LoadClient(await listenOn(app.getHttpServer()), USERS_PER_APP + 2) });
    }
  }, 30_000);

  afterAll(async () => {
    server?.resume();
    for (const { client } of http) client.close();
    for (const app of apps) await app.close();
    for (const redis of clients) redis.disconnect();
    await server?.stop();
  });

  /** Both apps still answer, fast, on a route that never touches the session: nothing crashed. */
  async function expectAlive(): Promise<void> {
    for (const { client } of http) {
      const health = await client.get('/health');
      expect(health.status).toBe(200);
      expect(health.ms).toBeLessThan(500);
    }
  }

  it(`killed mid-load for ${OUTAGE_MS / 1000} s and restarted: bounded storeFailure outcomes, no cookie, 2xx again within 2 s`, async () => {
    const fleet = new Fleet(http);
    await fleet.start();
    await sleep(WARM_MS);
    const killStart = performance.now();
    await server.kill();
    const killedAt = performance.now();
    await sleep(OUTAGE_MS);
    const restartStart = performance.now();
    await server.restart();
    const restartedAt = performance.now();
    await sleep(AFTER_MS);
    await fleet.stop();
    await expectAlive();

    const { samples } = fleet;
    expect(fleet.violations).toEqual([]);
    // Before the kill: normal service.
    const before = samples.filter((s) => s.end < killStart);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every(persisted)).toBe(true);

    // Every request of the whole run ended within the budget, none without an HTTP answer.
    expect(samples.filter((s) => s.status === 0)).toEqual([]);
    const slow = samples.filter((s) => s.ms >= LIMIT_MS);
    expect(slow.map((s) => `${s.app} ${s.user} ${s.status} ${s.ms.toFixed(0)} ms`)).toEqual([]);
    expect(samples.every((s) => ok(s) || s.status === 503)).toBe(true);

    // During the outage: the storeFailure outcome, and never a session cookie.
    const outage = samples.filter((s) => s.start >= killedAt && s.end <= restartStart);
    const rejected = outage.filter((s) => s.app === 'reject');
    const anonymous = outage.filter((s) => s.app === 'anonymous');
    expect(rejected.length).toBeGreaterThanOrEqual(USERS_PER_APP / 2);
    expect(anonymous.length).toBeGreaterThanOrEqual(USERS_PER_APP / 2);
    for (const s of rejected) {
      expect(s.status).toBe(503);
      expect(s.body).toMatch(/session store unavailable/i);
      expect(sidPair(s.setCookies)).toBeUndefined();
    }
    for (const s of anonymous) {
      expect(s.status).toBe(200);
      expect(s.setCookies).toEqual([]);
      expect(s.parsed).toEqual({ user: s.user, count: 1 }); // an empty session, never persisted
    }

    // Recovery: from some point within 2 s of the restart, every request succeeds, persisted.
    const figures: string[] = [];
    for (const mode of ['reject', 'anonymous'] as const) {
      const { firstOkMs, after } = recovery(samples, mode, restartedAt);
      figures.push(`${mode}: first persisted 2xx answered ${firstOkMs.toFixed(0)} ms after the restart (Redis answering PING), ${after.length} requests after it, all persisted 2xx`);
      expect(firstOkMs).toBeLessThan(RECOVERY_LIMIT_MS);
      expect(after.length).toBeGreaterThanOrEqual(USERS_PER_APP);
      expect(after.filter((s) => !persisted(s)).map((s) => `${s.user} ${s.status}`)).toEqual([]);
      expectConsecutiveCounts(after);
    }
    console.log(
      `[faults] Redis SIGKILL for ${((restartStart - killedAt) / 1000).toFixed(1)} s under load ` +
        `(${USERS_PER_APP} users per app, ${samples.length} requests; restart took ${fmt(restartedAt - restartStart)}):\n` +
        `  outage, reject (503): ${latencySummary(rejected)}\n` +
        `  outage, anonymous (200, no cookie): ${latencySummary(anonymous)}\n` +
        `  whole run max latency ${fmt(Math.max(...samples.map((s) => s.ms)))}\n` +
        `  ${figures.join('\n  ')}`,
    );
  }, 60_000);

  it(`paused (SIGSTOP ${PAUSE_MS / 1000} s) mid-load: no request waits longer than the budget + slack; service resumes`, async () => {
    const fleet = new Fleet(http);
    await fleet.start();
    await sleep(WARM_MS);
    const pauseStart = performance.now();
    server.pause();
    const pausedAt = performance.now();
    let resumedAt: number;
    try {
      await sleep(PAUSE_MS);
    } finally {
      server.resume();
      resumedAt = performance.now();
    }
    await sleep(AFTER_MS);
    await fleet.stop();
    await expectAlive();

    const { samples } = fleet;
    expect(fleet.violations).toEqual([]);
    expect(samples.filter((s) => s.end < pauseStart).every(persisted)).toBe(true);
    expect(samples.filter((s) => s.status === 0)).toEqual([]);
    const slow = samples.filter((s) => s.ms >= LIMIT_MS);
    expect(slow.map((s) => `${s.app} ${s.user} ${s.status} ${s.ms.toFixed(0)} ms`)).toEqual([]);

    const frozen = samples.filter((s) => s.start >= pausedAt && s.end <= resumedAt);
    const rejected = frozen.filter((s) => s.app === 'reject');
    const anonymous = frozen.filter((s) => s.app === 'anonymous');
    expect(rejected.length).toBeGreaterThanOrEqual(USERS_PER_APP / 2);
    expect(anonymous.length).toBeGreaterThanOrEqual(USERS_PER_APP / 2);
    for (const s of rejected) {
      expect(s.status).toBe(503);
      expect(sidPair(s.setCookies)).toBeUndefined();
      // A frozen server answers nothing: the request waited for the store's own timer.
      expect(s.ms).toBeGreaterThanOrEqual(BUDGET_MS - 20);
    }
    for (const s of anonymous) {
      expect(s.status).toBe(200);
      expect(s.setCookies).toEqual([]);
      expect(s.parsed).toEqual({ user: s.user, count: 1 });
    }

    const figures: string[] = [];
    for (const mode of ['reject', 'anonymous'] as const) {
      const { firstOkMs, after } = recovery(samples, mode, resumedAt);
      figures.push(`${mode}: first persisted 2xx answered ${firstOkMs.toFixed(0)} ms after SIGCONT, ${after.length} requests after it, all persisted 2xx`);
      expect(firstOkMs).toBeLessThan(RECOVERY_LIMIT_MS);
      expect(after.length).toBeGreaterThanOrEqual(USERS_PER_APP);
      expect(after.filter((s) => !persisted(s)).map((s) => `${s.user} ${s.status}`)).toEqual([]);
      expectConsecutiveCounts(after);
    }
    console.log(
      `[faults] Redis SIGSTOP for ${((resumedAt - pausedAt) / 1000).toFixed(1)} s under load (${samples.length} requests):\n` +
        `  frozen, reject (503): ${latencySummary(rejected)}\n` +
        `  frozen, anonymous (200, no cookie): ${latencySummary(anonymous)}\n` +
        `  whole run max latency ${fmt(Math.max(...samples.map((s) => s.ms)))}\n` +
        `  ${figures.join('\n  ')}`,
    );
  }, 60_000);
});

const FLOOD = FULL ? 200_000 : 50_000;
const MAX_ENTRIES = 10_000;
const FLOOD_CONCURRENCY = 32;

describe(`flood: ${FLOOD} new sessions into a MemoryStore with maxEntries ${MAX_ENTRIES}`, () => {
  let app: INestApplication;
  let store: MemoryStore;
  let client: LoadClient;

  beforeAll(async () => {
    store = new MemoryStore({ maxEntries: MAX_ENTRIES });
    app = await startCounterApp(store);
    client = new LoadClient(await listenOn(app.getHttpServer()), FLOOD_CONCURRENCY);
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
    store?.close();
  });

  it('store.size never above maxEntries, heap growth bounded, p99 latency flat', async () => {
    const latencies = new Float64Array(FLOOD);
    const failures: string[] = [];
    let maxSize = 0;
    let sizeSamples = 0;
    let firstId: string | undefined;
    let lastId: string | undefined;
    const sampler = setInterval(() => {
      maxSize = Math.max(maxSize, store.size);
      sizeSamples++;
    }, 20);
    const half = Math.floor(FLOOD / 2);
    const deadline = performance.now() + (FULL ? 400_000 : 100_000);
    const send = async (index: number) => {
      if (performance.now() > deadline) {
        if (failures.length < 10) failures.push(`time limit reached at request ${index}`);
        return;
      }
      const reply = await client.get('/new');
      latencies[index] = reply.ms;
      maxSize = Math.max(maxSize, store.size);
      const pair = sidPair(reply.setCookies);
      if (reply.status !== 200 || !pair) {
        if (failures.length < 10) failures.push(`request ${index}: ${reply.status} ${reply.error ?? ''} cookie ${pair ?? 'none'}`);
        return;
      }
      if (index === 0) firstId = idOfPair(pair);
      if (index === FLOOD - 1) lastId = idOfPair(pair);
    };

    const heapBefore = settledHeap();
    const started = performance.now();
    let heapMid: number;
    let heapAfter: number;
    let elapsed: number;
    try {
      await pool(half, FLOOD_CONCURRENCY, (i) => send(i));
      heapMid = settledHeap();
      await pool(FLOOD - half, FLOOD_CONCURRENCY, (i) => send(half + i));
      elapsed = performance.now() - started;
      heapAfter = settledHeap();
    } finally {
      clearInterval(sampler);
    }

    const tenth = Math.floor(FLOOD / 10);
    const all = Array.from(latencies);
    const firstP99 = percentile(all.slice(0, tenth), 99);
    const lastP99 = percentile(all.slice(FLOOD - tenth), 99);
    const firstP50 = percentile(all.slice(0, tenth), 50);
    const lastP50 = percentile(all.slice(FLOOD - tenth), 50);
    console.log(
      `[faults] flood: ${FLOOD} new sessions in ${(elapsed / 1000).toFixed(1)} s (${(FLOOD / (elapsed / 1000)).toFixed(0)} req/s, ` +
        `concurrency ${FLOOD_CONCURRENCY}); store.size max ${maxSize} over ${sizeSamples} timer samples + every response, final ${store.size}; ` +
        `heap + array buffers after GC ${mb(heapBefore)} → ${mb(heapMid)} (half) → ${mb(heapAfter)} (end): growth ${mb(heapAfter - heapBefore)} total, ` +
        `${mb(heapAfter - heapMid)} in the second half; p99 first 10% ${fmt(firstP99)}, last 10% ${fmt(lastP99)} ` +
        `(p50 ${fmt(firstP50)} → ${fmt(lastP50)}); ` +
        `overall p50 ${fmt(percentile(all, 50))} p99 ${fmt(percentile(all, 99))}`,
    );

    expect(failures).toEqual([]);
    expect(sizeSamples).toBeGreaterThan(0);
    expect(maxSize).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(store.size).toBe(MAX_ENTRIES);
    // Oldest evicted first: the first session of the flood is gone, the last one is kept.
    expect(await holds(store, firstId!)).toBe(false);
    expect(await holds(store, lastId!)).toBe(true);
    // Once the store is full (well before half-time), more sessions cost no more memory. Measured
    // without eviction (maxEntries above the flood), the second half adds ~0.27 KB per session:
    // 6.7 MB for 25k sessions, 27 MB for 100k; with eviction it stays within GC noise.
    expect(heapAfter - heapMid).toBeLessThan(4 * 1024 * 1024);
    expect(heapAfter - heapBefore).toBeLessThan(64 * 1024 * 1024);
    // Flat latency: generous bounds, never a performance target. The floors absorb scheduler
    // stalls on a shared CI machine (client and server share one process); a per-request cost
    // growing with the number of sessions would shift the median as well as the tail.
    expect(lastP99).toBeLessThan(Math.max(5 * firstP99, 500));
    expect(lastP50).toBeLessThan(Math.max(5 * firstP50, 25));
  }, FULL ? 420_000 : 120_000);
});
