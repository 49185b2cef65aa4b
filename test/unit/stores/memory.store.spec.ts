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

  describe('per-key records, kept as one string each', () => {
    const patchOf = (set: Record<string, string>, unset: string[] = []) => ({
      set: new Map(Object.entries(set).map(([field, value]) => [field, bytes(value)])),
      unset,
    });
    const asText = (fields: ReadonlyMap<string, Uint8Array> | null) =>
      fields && Object.fromEntries([...fields].map(([field, value]) => [field, Buffer.from(value).toString()]));

    it('read() returns the record as JSON of base64 fields; a patch merges into it', async () => {
      const store = make();
      await store.patch('p', patchOf({ m: 'meta', 'd:a': 'A', 'd:b': 'B' }), 60, 'create');
      expect(JSON.parse(Buffer.from((await store.read('p'))!).toString())).toEqual({
        m: Buffer.from('meta').toString('base64'),
        'd:a': Buffer.from('A').toString('base64'),
        'd:b': Buffer.from('B').toString('base64'),
      });
      expect(asText(await store.readFields('p'))).toEqual({ m: 'meta', 'd:a': 'A', 'd:b': 'B' });
      await store.patch('p', patchOf({ 'd:a': 'A2' }, ['d:b']), 60, 'update');
      expect(asText(await store.readFields('p'))).toEqual({ m: 'meta', 'd:a': 'A2' });
    });

    it('touch keeps the record and its decoding, and moves only its expiry', async () => {
      const store = make();
      await store.patch('t', patchOf({ m: 'meta', 'd:k': 'v' }), 0.15, 'create');
      expect(asText(await store.readFields('t'))).toEqual({ m: 'meta', 'd:k': 'v' });
      await sleep(100);
      expect(await store.touch('t', 0.3)).toBe(true);
      await sleep(100); // past the first expiry, within the second
      expect(asText(await store.readFields('t'))).toEqual({ m: 'meta', 'd:k': 'v' });
      await store.patch('t', patchOf({ 'd:k': 'w' }), 0.3, 'update');
      expect(asText(await store.readFields('t'))).toEqual({ m: 'meta', 'd:k': 'w' });
      await sleep(350);
      expect(await store.readFields('t')).toBeNull();
    });

    it('a text written with write() reads back as its UTF-8 bytes; non-ASCII key names survive', async () => {
      const store = make();
      await store.write('s', 'héllo ключ 🍪', 1, 60);
      expect(Buffer.from((await store.read('s'))!).toString('utf8')).toBe('héllo ключ 🍪');
      await store.patch('u', patchOf({ m: 'meta', 'd:ключ': 'значение' }), 60, 'create');
      expect(asText(await store.readFields('u'))).toEqual({ m: 'meta', 'd:ключ': 'значение' });
    });

    it('expires on the millisecond it was given (fractional TTLs round up), and a far TTL is kept', async () => {
      const store = make();
      await store.patch('f', patchOf({ m: 'meta' }), 0.0505, 'create');
      expect(await store.readFields('f')).not.toBeNull();
      await sleep(80);
      expect(await store.readFields('f')).toBeNull();
      await store.patch('far', patchOf({ m: 'meta' }), 10 * 365 * 24 * 3600, 'create');
      expect(asText(await store.readFields('far'))).toEqual({ m: 'meta' });
    });

    it('a session read by more requests than it keeps decodings for still reads correctly', async () => {
      const store = make();
      for (let i = 0; i < 10_050; i++) await store.patch(`s${i}`, patchOf({ m: 'meta', 'd:i': String(i) }), 60, 'create');
      for (let i = 0; i < 10_050; i++) await store.readFields(`s${i}`);
      expect(asText(await store.readFields('s0'))).toEqual({ m: 'meta', 'd:i': '0' });
      expect(asText(await store.readFields('s10049'))).toEqual({ m: 'meta', 'd:i': '10049' });
    });
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
