import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { RedisStore, RedisStoreTimeoutError } from '../../../src/redis/index.js';
import { storeConformanceCases } from '../../../src/testing/index.js';
import { type RedisCluster, redisAvailable, redisCommand, startCluster } from '../../support/redis-server.js';
import { LIFETIME_MODES } from '../../support/conformance-modes.js';

const describeRedis = redisAvailable() ? describe : describe.skip;
const bytes = (text: string) => new TextEncoder().encode(text);

describeRedis('RedisStore on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let store: RedisStore;

  beforeAll(async () => {
    cluster = await startCluster();
    // ioredis's defaults: the store bounds failures itself.
    client = new Cluster(cluster.startupNodes);
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('end', () => reject(new Error('cluster client ended before ready')));
    });
    store = new RedisStore({ client });
  }, 40000);

  afterAll(async () => {
    await client?.quit().catch(() => client.disconnect());
    await cluster?.stop();
  });

  describe.each(LIFETIME_MODES)('passes the store conformance suite (%s)', (_mode, options) => {
    for (const c of storeConformanceCases(() => store, options)) it(c.name, c.run);
  });

  it('spreads keys over every master, each key with a TTL', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `spread-${i}`);
    await Promise.all(ids.map((id, i) => store.write(id, bytes(id), i % 2 ? 0 : 3600, i % 3 ? 600 : 0)));
    await Promise.all(ids.slice(0, 30).map((id) => store.update(id, bytes('u'), 3600, 300)));
    for (const node of cluster.nodes) {
      const keys = (await redisCommand(node.port, ['KEYS', 'sess:spread-*'])) as string[];
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(await redisCommand(node.port, ['PTTL', key])).toBeGreaterThan(0);
    }
    const total = await Promise.all(cluster.nodes.map((n) => redisCommand(n.port, ['DBSIZE'])));
    expect(total.reduce<number>((sum, n) => sum + (n as number), 0)).toBe(60);
    const reads = await Promise.all(ids.map((id) => store.read(id, 3600)));
    expect(reads.map((r) => r!.toString())).toEqual(ids.map((id, i) => (i < 30 ? 'u' : id)));
    await Promise.all(ids.map((id) => store.remove(id)));
  });

  it('update of a removed key returns null and does not recreate it, on any slot', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `gone-${i}`);
    await Promise.all(ids.map((id) => store.write(id, bytes('x'), 3600, 60)));
    await Promise.all(ids.map((id) => store.remove(id)));
    expect(await Promise.all(ids.map((id) => store.update(id, bytes('y'), 3600, 60)))).toEqual(ids.map(() => null));
    for (const id of ids) expect(await client.exists(`sess:${id}`)).toBe(0);
  });

  it('a frozen master fails only the reads of its slots, within the budget', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `frozen-${i}`);
    await Promise.all(ids.map((id) => store.write(id, bytes(id), 3600, 600)));
    const fast = new RedisStore({ client, timeout: 500 });
    const frozen = cluster.nodes[0]!;
    frozen.pause();
    let results: PromiseSettledResult<Buffer | null>[];
    const start = performance.now();
    try {
      results = await Promise.allSettled(ids.map((id) => fast.read(id, 3600)));
    } finally {
      frozen.resume();
    }
    const elapsed = performance.now() - start;
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(elapsed).toBeLessThan(500 + 300);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length).toBeLessThan(ids.length);
    for (const r of rejected) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RedisStoreTimeoutError);
    console.log(`Cluster: 1 of 3 masters SIGSTOPped: ${rejected.length}/30 reads timed out, all settled in ${elapsed.toFixed(0)} ms`);
    const after = await Promise.all(ids.map((id) => store.read(id, 3600)));
    expect(after.map((r) => r!.toString())).toEqual(ids);
    await Promise.all(ids.map((id) => store.remove(id)));
  });
});
