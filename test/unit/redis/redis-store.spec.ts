import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/redis/index.js';
import { storeConformanceCases } from '../../../src/testing/index.js';
import { type RedisServer, redisAvailable, redisCommand, sleep, startRedisServer } from '../../support/redis-server.js';
import { LIFETIME_MODES } from '../../support/conformance-modes.js';

const describeRedis = redisAvailable() ? describe : describe.skip;
const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * Records the commands the client under test sends, read from MONITOR. After each operation an
 * ECHO marker goes down the same connection, so everything the operation sent arrives before it.
 */
class CommandLog {
  private entries: string[][] = [];
  private markers = 0;

  private constructor(private readonly client: Redis) {}

  static async start(client: Redis): Promise<CommandLog> {
    const log = new CommandLog(client);
    const monitor = await client.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => log.entries.push(args));
    log.monitor = monitor;
    return log;
  }

  monitor?: Redis;

  async capture(operation: () => Promise<unknown>): Promise<string[][]> {
    this.entries = [];
    await operation();
    const marker = `marker-${++this.markers}`;
    await this.client.echo(marker);
    const deadline = Date.now() + 2000;
    for (;;) {
      const at = this.entries.findIndex((args) => args[0]?.toLowerCase() === 'echo' && args[1] === marker);
      if (at >= 0) return this.entries.slice(0, at).map(([name, ...rest]) => [name!.toUpperCase(), ...rest]);
      if (Date.now() > deadline) throw new Error(`MONITOR never showed ${marker}`);
      await sleep(5);
    }
  }
}

describeRedis('RedisStore on a single Redis node', () => {
  let server: RedisServer;
  let client: Redis;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis({ host: server.host, port: server.port });
    await client.ping();
    store = new RedisStore({ client });
  }, 20000);

  afterAll(async () => {
    await client?.quit().catch(() => client.disconnect());
    await server?.stop();
  });

  describe.each(LIFETIME_MODES)('passes the store conformance suite (%s)', (_mode, options) => {
    for (const c of storeConformanceCases(() => store, options)) it(c.name, c.run);
  });

  describe('commands', () => {
    let log: CommandLog;
    beforeAll(async () => {
      log = await CommandLog.start(client);
    });
    afterAll(() => log.monitor?.disconnect());

    it('sends exactly one command per operation, each key with a TTL', async () => {
      const data = bytes('{"a":1}');
      expect(await log.capture(() => store.write('id1', data, 3600, 60))).toEqual([['SET', 'sess:id1', '{"a":1}', 'PX', '60000']]);
      expect(await log.capture(() => store.read('id1', 3600))).toEqual([['GET', 'sess:id1']]);
      expect(await log.capture(() => store.update('id1', data, 3600, 30))).toEqual([['SET', 'sess:id1', '{"a":1}', 'PX', '30000', 'XX']]);
      expect(await log.capture(() => store.touch('id1', 45))).toEqual([['PEXPIRE', 'sess:id1', '45000']]);
      expect(await log.capture(() => store.remove('id1'))).toEqual([['UNLINK', 'sess:id1']]);
      expect(await log.capture(() => store.update('id1', data, 3600, 30))).toEqual([['SET', 'sess:id1', '{"a":1}', 'PX', '30000', 'XX']]);
      expect(await log.capture(() => store.touch('id1', 45))).toEqual([['PEXPIRE', 'sess:id1', '45000']]);
    });

    it('rounds TTLs up to whole milliseconds, never below 1', async () => {
      const px = async (ttl: number) => (await log.capture(() => store.write('r', bytes('x'), 3600, ttl)))[0]![4];
      expect(await px(1.0004)).toBe('1001');
      expect(await px(0.0000001)).toBe('1');
      expect(await px(2.5)).toBe('2500');
      await store.remove('r');
    });
  });

  describe('TTLs', () => {
    const pttl = (key: string) => client.pttl(key);

    beforeEach(async () => {
      await client.flushall();
    });

    it('uses the given ttl', async () => {
      await store.write('t', bytes('x'), 3600, 60);
      expect(await pttl('sess:t')).toBeGreaterThan(59000);
      expect(await pttl('sess:t')).toBeLessThanOrEqual(60000);
    });

    it('uses fallbackTtl (default 30 days) when ttl <= 0', async () => {
      await store.write('t', bytes('x'), 3600, 0);
      expect(await pttl('sess:t')).toBeGreaterThan(2592000000 - 5000);
      await store.write('t', bytes('x'), 3600, -3);
      expect(await pttl('sess:t')).toBeGreaterThan(2592000000 - 5000);
    });

    it('uses fallbackTtl for browser-session cookies (lifetime 0), capped by a shorter ttl', async () => {
      const short = new RedisStore({ client, fallbackTtl: 120 });
      await short.write('t', bytes('x'), 0, 86400);
      expect(await pttl('sess:t')).toBeGreaterThan(119000);
      expect(await pttl('sess:t')).toBeLessThanOrEqual(120000);
      await short.write('t', bytes('x'), 0, 30);
      expect(await pttl('sess:t')).toBeLessThanOrEqual(30000);
      await short.update('t', bytes('y'), 0, 0);
      expect(await pttl('sess:t')).toBeGreaterThan(119000);
      await short.touch('t', 0);
      expect(await pttl('sess:t')).toBeGreaterThan(119000);
    });

    it('update and touch keep a TTL on the key', async () => {
      await store.write('t', bytes('x'), 3600, 60);
      await store.update('t', bytes('y'), 3600, 50);
      expect(await pttl('sess:t')).toBeGreaterThan(49000);
      expect(await pttl('sess:t')).toBeLessThanOrEqual(50000);
      await store.touch('t', 300);
      expect(await pttl('sess:t')).toBeGreaterThan(299000);
    });

    it('leaves no key without a TTL, whatever the operations', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `k${i}`);
      await Promise.all(ids.map((id, i) => store.write(id, bytes(id), i % 2 ? 0 : 3600, i % 3 ? i : 0)));
      await Promise.all(ids.map((id, i) => (i % 2 ? store.update(id, bytes('u'), 3600, i) : store.touch(id, i % 4))));
      const keys = await client.keys('*');
      expect(keys).toHaveLength(40);
      for (const key of keys) expect(await pttl(key)).toBeGreaterThan(0);
    });
  });

  describe('update', () => {
    it('returns null for a removed record and does not recreate it', async () => {
      await store.write('gone', bytes('before'), 3600, 60);
      await store.remove('gone');
      expect(await store.update('gone', bytes('after'), 3600, 60)).toBeNull();
      expect(await client.exists('sess:gone')).toBe(0);
      expect(await store.read('gone', 3600)).toBeNull();
    });

    it('returns the ID and replaces an existing record', async () => {
      await store.write('here', bytes('before'), 3600, 60);
      expect(await store.update('here', bytes('after'), 3600, 60)).toBe('here');
      expect((await client.getBuffer('sess:here'))!.toString()).toBe('after');
    });

    it('does not undo a concurrent remove (logout) that lands first', async () => {
      await store.write('race', bytes('logged in'), 3600, 60);
      const [, updated] = await Promise.all([store.remove('race'), store.update('race', bytes('stale'), 3600, 60)]);
      expect(updated).toBeNull();
      expect(await client.exists('sess:race')).toBe(0);
    });
  });

  describe('prefix', () => {
    it("defaults to 'sess:'", async () => {
      await store.write('p1', bytes('x'), 3600, 60);
      expect(await client.exists('sess:p1')).toBe(1);
    });

    it('prepends a string prefix', async () => {
      const prefixed = new RedisStore({ client, prefix: 'app:' });
      await prefixed.write('p2', bytes('x'), 3600, 60);
      expect(await client.exists('app:p2')).toBe(1);
      expect(await store.read('p2', 3600)).toBeNull();
    });

    it('calls a prefix function with the ID and uses its result as the whole key', async () => {
      const seen: string[] = [];
      const prefixed = new RedisStore({
        client,
        prefix: (id) => {
          seen.push(id);
          return 'my_sessions_' + id;
        },
      });
      await prefixed.write('abc', bytes('payload'), 3600, 60);
      expect((await client.getBuffer('my_sessions_abc'))!.toString()).toBe('payload');
      expect((await prefixed.read('abc', 3600))!.toString()).toBe('payload');
      await prefixed.touch('abc', 60);
      await prefixed.update('abc', bytes('p2'), 3600, 60);
      await prefixed.remove('abc');
      expect(await client.exists('my_sessions_abc')).toBe(0);
      expect(seen).toEqual(['abc', 'abc', 'abc', 'abc', 'abc']);
    });
  });

  it('returns Buffers and keeps binary data intact', async () => {
    const data = Uint8Array.from([0, 255, 0, 10, 13, 128]);
    await store.write('bin', data, 3600, 60);
    const got = await store.read('bin', 3600);
    expect(Buffer.isBuffer(got)).toBe(true);
    expect([...got!]).toEqual([...data]);
    // A view into a larger buffer is written as the view only.
    const view = new TextEncoder().encode('xxhelloyy').subarray(2, 7);
    await store.write('view', view, 3600, 60);
    expect((await store.read('view', 3600))!.toString()).toBe('hello');
  });

  it('bounds every operation with one shared timer that never holds the process open', async () => {
    // A budget no other code uses tells the store's timers apart from ioredis's.
    const budget = 4321;
    const timed = new RedisStore({ client, timeout: budget });
    const mine: NodeJS.Timeout[] = [];
    const { setTimeout: realSet } = globalThis;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const timer = realSet(fn, ms);
      if (ms === budget) mine.push(timer);
      return timer;
    }) as typeof setTimeout;
    try {
      await timed.write('tm', bytes('x'), 3600, 60);
      await Promise.all(Array.from({ length: 20 }, (_, i) => timed.read(`tm${i}`, 3600)));
      await timed.update('tm', bytes('y'), 3600, 60);
      await timed.touch('tm', 60);
      await timed.remove('tm');
    } finally {
      globalThis.setTimeout = realSet;
    }
    // 24 operations, one timer: armed by the first, still pending for the others' deadlines.
    expect(mine).toHaveLength(1);
    expect(mine[0].hasRef()).toBe(false);
  });

  describe('per-key records: a hash, changed field by field', () => {
    const patchOf = (set: Record<string, string>, unset: string[] = []) => ({
      set: new Map(Object.entries(set).map(([field, value]) => [field, bytes(value)])),
      unset,
    });
    const hash = async (key: string) => {
      const reply = (await client.callBuffer('HGETALL', key)) as Buffer[];
      const fields: Record<string, string> = {};
      for (let i = 0; i < reply.length; i += 2) fields[reply[i]!.toString()] = reply[i + 1]!.toString();
      return fields;
    };
    const asText = (fields: ReadonlyMap<string, Uint8Array> | null) =>
      fields && Object.fromEntries([...fields].map(([field, value]) => [field, Buffer.from(value).toString()]));

    beforeEach(async () => {
      await client.flushall();
    });

    it('create writes a hash of raw values with a TTL; update sets and deletes only the named fields and renews the TTL', async () => {
      expect(await store.patch('h1', patchOf({ m: 'meta', 'd:a': 'A', 'd:b': 'B' }), 60, 'create')).toBe(true);
      expect(await client.type('sess:h1')).toBe('hash');
      expect(await hash('sess:h1')).toEqual({ m: 'meta', 'd:a': 'A', 'd:b': 'B' });
      expect(await client.pttl('sess:h1')).toBeGreaterThan(59_000);

      expect(await store.patch('h1', patchOf({ 'd:a': 'A2', 'd:c': 'C' }, ['d:b']), 120, 'update')).toBe(true);
      expect(await hash('sess:h1')).toEqual({ m: 'meta', 'd:a': 'A2', 'd:c': 'C' });
      expect(await client.pttl('sess:h1')).toBeGreaterThan(119_000);
      expect(asText(await store.readFields('h1', 3600))).toEqual({ m: 'meta', 'd:a': 'A2', 'd:c': 'C' });
    });

    it('an update of a removed record returns false and recreates nothing', async () => {
      await store.patch('gone', patchOf({ m: 'meta' }), 60, 'create');
      await store.remove('gone');
      expect(await store.patch('gone', patchOf({ 'd:a': 'late' }), 60, 'update')).toBe(false);
      expect(await client.exists('sess:gone')).toBe(0);
    });

    it('a create replaces whatever the key held', async () => {
      await store.patch('c1', patchOf({ m: 'old', 'd:stale': 'x' }), 60, 'create');
      await store.patch('c1', patchOf({ m: 'new' }), 60, 'create');
      expect(await hash('sess:c1')).toEqual({ m: 'new' });
      await client.set('sess:c2', 'a string value', 'PX', 60_000);
      expect(await store.patch('c2', patchOf({ m: 'new' }), 60, 'create')).toBe(true);
      expect(await hash('sess:c2')).toEqual({ m: 'new' });
    });

    it('thousands of fields in one patch (the script sends them to HSET/HDEL in chunks)', async () => {
      const many = Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`d:k${i}`, `v${i}`]));
      expect(await store.patch('big', patchOf({ m: 'meta', ...many }), 60, 'create')).toBe(true);
      expect(await client.hlen('sess:big')).toBe(2501);
      const unset = Array.from({ length: 2100 }, (_, i) => `d:k${i}`);
      expect(await store.patch('big', patchOf({ 'd:new': 'n' }, unset), 60, 'update')).toBe(true);
      const fields = await hash('sess:big');
      expect(Object.keys(fields)).toHaveLength(402);
      expect(fields['d:k2100']).toBe('v2100');
      expect(fields['d:k2099']).toBeUndefined();
      expect(fields['d:new']).toBe('n');
    });

    it('read() returns the record in the JSON form MemoryStore keeps (readSessionData decodes it)', async () => {
      await store.patch('r1', patchOf({ m: 'meta', 'd:a': 'A' }), 60, 'create');
      const json = JSON.parse((await store.read('r1', 3600))!.toString());
      expect(json).toEqual({ m: Buffer.from('meta').toString('base64'), 'd:a': Buffer.from('A').toString('base64') });
      expect(await store.read('missing', 3600)).toBeNull();
    });

    it('a record written in the earlier layout (one JSON string) is still read and merged in that layout, with its TTL', async () => {
      const legacy = { m: Buffer.from('meta').toString('base64'), 'd:a': Buffer.from('A').toString('base64'), 'd:b': Buffer.from('B').toString('base64') };
      await client.set('sess:old', JSON.stringify(legacy), 'PX', 60_000);
      expect(asText(await store.readFields('old', 3600))).toEqual({ m: 'meta', 'd:a': 'A', 'd:b': 'B' });
      expect(await store.patch('old', patchOf({ 'd:a': 'A2' }, ['d:b']), 90, 'update')).toBe(true);
      expect(await client.type('sess:old')).toBe('string');
      expect(asText(await store.readFields('old', 3600))).toEqual({ m: 'meta', 'd:a': 'A2' });
      expect(await client.pttl('sess:old')).toBeGreaterThan(89_000);
      // A value that is no record (a blob from write()) reads as no session, never as an error.
      await store.write('blob', bytes('not a record'), 3600, 60);
      expect(await store.readFields('blob', 3600)).toBeNull();
    });
  });

  it('works against the server the harness started, not the shared one', async () => {
    expect(server.port).not.toBe(6379);
    expect(await redisCommand(server.port, ['PING'])).toBe('PONG');
  });
});
