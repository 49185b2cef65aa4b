import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisStore, RedisStoreTimeoutError } from '../../../src/redis/index.js';
import { type RedisServer, freePort, redisAvailable, sleep, startRedisServer } from '../../support/redis-server.js';

const describeRedis = redisAvailable() ? describe : describe.skip;
const bytes = (text: string) => new TextEncoder().encode(text);
// Slack over the budget for timer and event-loop jitter.
const SLACK_MS = 300;

/** Settles `promise` and returns how long it took and how it ended. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

/** Retries `operation` until it succeeds: the store must recover without help. */
async function until<T>(operation: () => Promise<T>, withinMs: number): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  for (;;) {
    try {
      return { ms: performance.now() - start, value: await operation() };
    } catch (error) {
      if (performance.now() - start > withinMs) throw error;
      await sleep(100);
    }
  }
}

/**
 * An ioredis client with ioredis's defaults (offline queue, 20 retries per request).
 * `disconnectTimeout` only shortens a timer that ioredis leaves behind when disconnected while
 * reconnecting, which would otherwise keep Jest alive for 2 s after the run.
 */
function defaultClient(port: number, disconnectTimeout?: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, ...(disconnectTimeout ? { disconnectTimeout } : {}) });
  // Only silences "Unhandled error event" logging; it changes no behaviour.
  client.on('error', () => {});
  return client;
}

describeRedis('RedisStore when Redis fails (ioredis client with default options)', () => {
  let server: RedisServer;
  let client: Redis;
  let store: RedisStore;
  const measured: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    client = defaultClient(server.port);
    await client.ping();
    store = new RedisStore({ client });
  }, 20000);

  afterEach(() => server.resume());

  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
    console.log(`RedisStore failure timings:\n  ${measured.join('\n  ')}`);
  });

  it('a frozen (SIGSTOP) Redis fails a read within the 1 s default budget, then recovers by itself', async () => {
    await store.write('frozen', bytes('kept'), 3600, 600);
    server.pause();
    const read = await timed(store.read('frozen', 3600));
    expect(read.error).toBeInstanceOf(RedisStoreTimeoutError);
    expect((read.error as RedisStoreTimeoutError).operation).toBe('read');
    expect(read.ms).toBeGreaterThanOrEqual(990);
    expect(read.ms).toBeLessThan(1000 + SLACK_MS);
    server.resume();
    const recovered = await until(() => store.read('frozen', 3600), 5000);
    expect(recovered.value!.toString()).toBe('kept');
    measured.push(`SIGSTOP read rejected after ${read.ms.toFixed(0)} ms; after SIGCONT, read succeeded in ${recovered.ms.toFixed(0)} ms`);
  });

  it('every operation is bounded while Redis is frozen', async () => {
    const fast = new RedisStore({ client, timeout: 200 });
    server.pause();
    const results = await Promise.all([
      timed(fast.read('x', 3600)),
      timed(fast.write('x', bytes('x'), 3600, 60)),
      timed(fast.update('x', bytes('x'), 3600, 60)),
      timed(fast.remove('x')),
      timed(fast.touch('x', 60)),
    ]);
    expect(results.map((r) => (r.error as RedisStoreTimeoutError).operation)).toEqual(['read', 'write', 'update', 'remove', 'touch']);
    for (const r of results) expect(r.ms).toBeLessThan(200 + SLACK_MS);
    measured.push(`SIGSTOP, timeout 200: all five operations rejected within ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms`);
  });

  it('a killed Redis fails a read within the budget, and after a restart on the same port operations succeed again', async () => {
    await server.kill();
    const read = await timed(store.read('k', 3600));
    const write = await timed(store.write('k', bytes('x'), 3600, 60));
    for (const op of [read, write]) {
      expect(op.error).toBeDefined();
      expect(op.ms).toBeLessThan(1000 + SLACK_MS);
    }
    await server.restart();
    const recovered = await until(() => store.write('after', bytes('back'), 3600, 60), 10000);
    expect((await store.read('after', 3600))!.toString()).toBe('back');
    measured.push(
      `killed: read rejected after ${read.ms.toFixed(0)} ms (${(read.error as Error).name}), ` +
        `write after ${write.ms.toFixed(0)} ms; after restart, write succeeded in ${recovered.ms.toFixed(0)} ms`,
    );
  }, 20000);

  it('a Redis that was never reachable fails within the budget', async () => {
    const orphan = defaultClient(await freePort(), 10);
    try {
      const read = await timed(new RedisStore({ client: orphan, timeout: 500 }).read('x', 3600));
      expect(read.error).toBeInstanceOf(RedisStoreTimeoutError);
      expect(read.ms).toBeLessThan(500 + SLACK_MS);
      measured.push(`never reachable, timeout 500: read rejected after ${read.ms.toFixed(0)} ms`);
    } finally {
      orphan.disconnect();
    }
  });
});
