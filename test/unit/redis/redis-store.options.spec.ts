import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { RedisStore, RedisStoreTimeoutError } from '../../../src/redis/index.js';

// Enough of a client to pass the duck-typed check; these tests never send a command.
const fakeClient = { getBuffer() {}, set() {}, unlink() {}, pexpire() {}, callBuffer() {} } as unknown as Redis;

describe('RedisStore options', () => {
  it('needs a client', () => {
    expect(() => new RedisStore(undefined as never)).toThrow(TypeError);
    expect(() => new RedisStore({} as never)).toThrow(/`client` is required/);
    expect(() => new RedisStore({ client: {} as Redis })).toThrow(/not an ioredis Redis or Cluster \(missing getBuffer, set, unlink, pexpire, callBuffer\)/);
  });

  it('accepts a string or function prefix only', () => {
    expect(() => new RedisStore({ client: fakeClient, prefix: 'x:' })).not.toThrow();
    expect(() => new RedisStore({ client: fakeClient, prefix: (id) => `x:${id}` })).not.toThrow();
    expect(() => new RedisStore({ client: fakeClient, prefix: 42 as never })).toThrow(/`prefix` must be a string or a function/);
    expect(() => new RedisStore({ client: fakeClient, prefix: null as never })).toThrow(TypeError);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '60' as never])('rejects fallbackTtl %p', (fallbackTtl) => {
    expect(() => new RedisStore({ client: fakeClient, fallbackTtl })).toThrow(/`fallbackTtl` must be a positive number of seconds/);
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000' as never])('rejects timeout %p', (timeout) => {
    expect(() => new RedisStore({ client: fakeClient, timeout })).toThrow(/`timeout` must be a positive number of milliseconds/);
  });

  it('rejects a prefix function that returns no key, at call time', async () => {
    const store = new RedisStore({ client: fakeClient, prefix: () => '' });
    await expect(store.read('abc', 60)).rejects.toThrow(/must return a non-empty string key/);
  });

  it('exposes the operation and budget on the timeout error', () => {
    const error = new RedisStoreTimeoutError('read', 1000);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RedisStoreTimeoutError');
    expect(error.operation).toBe('read');
    expect(error.timeout).toBe(1000);
    expect(error.message).toMatch(/read did not complete within 1000 ms/);
  });

  it('never loads ioredis at runtime (it is an optional peer dependency)', async () => {
    for (const file of ['src/redis/redis.store.ts', 'src/redis/index.ts']) {
      const source = await readFile(new URL(`../../../${file}`, import.meta.url), 'utf8');
      const ioredisImports = source.split('\n').filter((line) => /from\s+['"]ioredis['"]|import\(\s*['"]ioredis|require\(/.test(line));
      for (const line of ioredisImports) expect(line).toMatch(/^import type /);
    }
  });
});
