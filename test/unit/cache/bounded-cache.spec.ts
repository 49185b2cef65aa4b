import { describe, expect, it } from '@jest/globals';
import { BoundedCache } from '../../../src/cache/bounded-cache.js';

describe('BoundedCache', () => {
  it('returns what was stored under a key', () => {
    const cache = new BoundedCache<number>(10, 1000);
    cache.set('a', 1);
    expect(cache.get('a')).toBe(1);
    expect(cache.get('b')).toBeUndefined();
  });

  it('starts over when the entry limit is reached', () => {
    const cache = new BoundedCache<number>(3, 1000);
    for (const key of ['a', 'b', 'c']) cache.set(key, 1);
    cache.set('d', 1);
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key))).toEqual([undefined, undefined, undefined, 1]);
  });

  it('counts key characters and value size against its size limit', () => {
    const cache = new BoundedCache<string>(100, 20, (value) => value.length);
    cache.set('k1', 'x'.repeat(8)); // 10
    cache.set('k2', 'y'.repeat(8)); // 20
    expect(cache.get('k1')).toBeDefined();
    cache.set('k3', 'z'); // over 20: starts over
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k3')).toBe('z');
  });

  it('never keeps an entry larger than the whole cache', () => {
    const cache = new BoundedCache<string>(100, 10, (value) => value.length);
    cache.set('small', 'a');
    cache.set('huge', 'x'.repeat(50));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('small')).toBe('a');
  });
});
