import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryStore } from '../../../src/stores/memory.store.js';
import { storeConformanceCases } from '../../../src/testing/index.js';
import { LIFETIME_MODES } from '../../support/conformance-modes.js';

const bytes = (text: string) => Buffer.from(text);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(LIFETIME_MODES)('MemoryStore conformance (%s)', (_mode, options) => {
  for (const conformance of storeConformanceCases(() => new MemoryStore(), options)) it(conformance.name, conformance.run);
});

describe('MemoryStore', () => {
  const stores: MemoryStore[] = [];
  const make = (options?: ConstructorParameters<typeof MemoryStore>[0]) => {
    const store = new MemoryStore(options);
    stores.push(store);
    return store;
  };
  afterEach(() => stores.splice(0).forEach((s) => s.close()));

  it('expires an entry after its ttl', async () => {
    const store = make();
    await store.write('a', bytes('x'), 1, 0.05);
    expect(await store.read('a')).toEqual(bytes('x'));
    await sleep(80);
    expect(await store.read('a')).toBeNull();
  });

  it('touch extends the expiry and never recreates a removed entry', async () => {
    const store = make();
    await store.write('a', bytes('x'), 1, 0.08);
    await sleep(50);
    await store.touch('a', 0.1);
    await sleep(50);
    expect(await store.read('a')).toEqual(bytes('x'));
    await store.remove('a');
    await store.touch('a', 10);
    expect(await store.read('a')).toBeNull();
  });

  it('update writes only when the entry still exists', async () => {
    const store = make();
    expect(await store.update('gone', bytes('x'), 1, 10)).toBeNull();
    expect(await store.read('gone')).toBeNull();
    await store.write('a', bytes('1'), 1, 10);
    expect(await store.update('a', bytes('2'), 1, 10)).toBe('a');
    expect(await store.read('a')).toEqual(bytes('2'));
  });

  it('holds at most maxEntries, evicting the oldest first', async () => {
    const store = make({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) await store.write(id, bytes(id), 1, 60);
    expect(store.size).toBe(3);
    expect(await store.read('a')).toBeNull();
    expect(await store.read('d')).toEqual(bytes('d'));
    // Rewriting 'b' makes it the youngest, so 'c' goes next.
    await store.write('b', bytes('b2'), 1, 60);
    await store.write('e', bytes('e'), 1, 60);
    expect(await store.read('c')).toBeNull();
    expect(await store.read('b')).toEqual(bytes('b2'));
  });

  it('sweeps expired entries on its timer', async () => {
    const store = make({ sweepInterval: 20 });
    for (let i = 0; i < 50; i++) await store.write(`k${i}`, bytes('x'), 1, 0.01);
    await sleep(80);
    expect(store.size).toBe(0);
  });

  it('its sweep timer does not keep the process alive', () => {
    const store = make();
    const timer = (store as unknown as { sweeper: NodeJS.Timeout }).sweeper;
    expect(timer.hasRef()).toBe(false);
  });

  it('ttl <= 0 keeps the record for its fallback, as RedisStore does (the built-in stores agree)', async () => {
    const store = make({ fallbackTtl: 0.1 });
    for (const ttl of [0, -5, Number.NaN]) {
      await store.write(`w${ttl}`, bytes('x'), 0, ttl);
      expect(await store.read(`w${ttl}`)).toEqual(bytes('x'));
    }
    await store.touch('w0', 0);
    await sleep(150);
    expect(await store.read('w0')).toBeNull();
    // Without its own fallbackTtl, the module's default (30 days) applies.
    const defaults = make();
    expect(defaults.fallbackTtl).toBeUndefined();
    await defaults.write('a', bytes('x'), 0, 0);
    await sleep(20);
    expect(await defaults.read('a')).toEqual(bytes('x'));
  });

  it('rejects a bad fallbackTtl', () => {
    for (const fallbackTtl of [0, -1, Number.NaN, Infinity, '60' as unknown as number]) {
      expect(() => new MemoryStore({ fallbackTtl })).toThrow(/fallbackTtl/);
    }
  });

  it('rejects a bad maxEntries', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new MemoryStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
  });
});
