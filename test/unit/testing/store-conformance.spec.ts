import { describe, expect, it } from '@jest/globals';
import type { SessionStore, UpdatableSessionStore } from '../../../src/interfaces/session-store.interface.js';
import { runStoreConformance, storeConformanceCases } from '../../../src/testing/index.js';

/** Mirrors starsessions' InMemoryStore: a dict, no expiry, `b""` for an unknown ID. */
class DictStore implements SessionStore {
  private readonly storage = new Map<string, Uint8Array>();
  async read(id: string): Promise<Uint8Array> {
    return this.storage.get(id) ?? new Uint8Array(0);
  }
  async write(id: string, data: Uint8Array): Promise<string> {
    this.storage.set(id, data);
    return id;
  }
  async remove(id: string): Promise<void> {
    this.storage.delete(id);
  }
}

/** A dict that expires records and has every optional capability. */
class ExpiringStore implements UpdatableSessionStore {
  protected readonly storage = new Map<string, { data: Uint8Array; expires: number }>();
  async read(id: string): Promise<Uint8Array | null> {
    const entry = this.storage.get(id);
    return entry && entry.expires > Date.now() ? entry.data : null;
  }
  async write(id: string, data: Uint8Array, _lifetime: number, ttl: number): Promise<string> {
    this.storage.set(id, { data: Uint8Array.from(data), expires: Date.now() + ttl * 1000 });
    return id;
  }
  async update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string | null> {
    return (await this.read(id)) ? this.write(id, data, lifetime, ttl) : null;
  }
  async remove(id: string): Promise<void> {
    this.storage.delete(id);
  }
  async touch(id: string, ttl: number): Promise<void> {
    const entry = this.storage.get(id);
    if (entry) entry.expires = Date.now() + ttl * 1000;
  }
}

/** Keeps the data in the "cookie" (the returned ID), with the expiry embedded, like a CookieStore. */
class ClientStore implements SessionStore {
  readonly clientSide = true as const;
  readonly maxSize = 4096;
  async read(id: string): Promise<Uint8Array | null> {
    const [expires, payload] = id.split('.');
    if (!payload || !/^\d+$/.test(expires!) || Number(expires) <= Date.now()) return null;
    return Buffer.from(payload, 'base64url');
  }
  async write(_id: string, data: Uint8Array, _lifetime: number, ttl: number): Promise<string> {
    return `${Date.now() + ttl * 1000}.${Buffer.from(data).toString('base64url')}`;
  }
  async remove(): Promise<void> {}
}

/** Loses bytes that are not valid UTF-8, as a store that keeps payloads as strings does. */
class StringStore extends DictStore {
  override async write(id: string, data: Uint8Array): Promise<string> {
    return super.write(id, new TextEncoder().encode(new TextDecoder().decode(data)));
  }
}

/** `update` recreates a removed record: the bug that undoes a logout. */
class RecreatingUpdateStore extends ExpiringStore {
  override async update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string | null> {
    return this.write(id, data, lifetime, ttl);
  }
}

/** `touch` creates an empty record for an unknown ID. */
class RecreatingTouchStore extends ExpiringStore {
  override async touch(id: string, ttl: number): Promise<void> {
    if (!this.storage.has(id)) this.storage.set(id, { data: new TextEncoder().encode('{}'), expires: 0 });
    this.storage.get(id)!.expires = Date.now() + ttl * 1000;
  }
}

async function failuresOf(run: Promise<void>): Promise<string[]> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AggregateError);
  return (error as AggregateError).errors.map((e: Error) => e.message);
}

describe('store conformance suite', () => {
  describe('on a starsessions-style dict store (no TTL)', () => {
    for (const c of storeConformanceCases(() => new DictStore(), { skipTtl: true })) it(c.name, c.run);
  });

  describe('on an expiring store with touch and update', () => {
    for (const c of storeConformanceCases(() => new ExpiringStore())) it(c.name, c.run);
  });

  describe('on a client-side store', () => {
    for (const c of storeConformanceCases(() => new ClientStore(), { clientSide: true })) it(c.name, c.run);
  });

  it('lists the cases each kind of store gets', () => {
    const all = storeConformanceCases(() => new ExpiringStore()).map((c) => c.name);
    const noTtl = storeConformanceCases(() => new ExpiringStore(), { skipTtl: true }).map((c) => c.name);
    const clientSide = storeConformanceCases(() => new ClientStore(), { clientSide: true }).map((c) => c.name);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(13);
    expect(all.filter((n) => !noTtl.includes(n))).toEqual([
      'a record written with ttl=1 is gone after its TTL',
      'touch (when implemented) extends a record past its original TTL',
    ]);
    expect(all.filter((n) => !clientSide.includes(n) && !n.includes('-byte random payload')).sort()).toEqual(
      [
        'remove then read gives null',
        'touch (when implemented) extends a record past its original TTL',
        'touch (when implemented) never recreates a missing record',
        'update (when implemented) returns null and does not recreate a removed record',
      ].sort(),
    );
    expect(clientSide).toContain('a 2048-byte random payload round-trips byte-exact');
  });

  it('runStoreConformance resolves for a conforming store', async () => {
    await expect(runStoreConformance(() => new DictStore(), { skipTtl: true })).resolves.toBeUndefined();
  });

  it('calls teardown once per case with the store', async () => {
    const seen: SessionStore[] = [];
    await runStoreConformance(() => new DictStore(), { skipTtl: true, teardown: (s) => void seen.push(s) });
    expect(seen).toHaveLength(storeConformanceCases(() => new DictStore(), { skipTtl: true }).length);
    expect(new Set(seen).size).toBe(seen.length);
  });

  describe('catches broken stores', () => {
    it('bytes lost by a string-based store', async () => {
      const failed = await failuresOf(runStoreConformance(() => new StringStore(), { skipTtl: true }));
      expect(failed).toHaveLength(2);
      expect(failed.join('\n')).toMatch(/every byte value.*read returned other bytes/);
      expect(failed.join('\n')).toMatch(/65536-byte random payload/);
    });

    it('an update that recreates a removed record', async () => {
      const failed = await failuresOf(runStoreConformance(() => new RecreatingUpdateStore(), { skipTtl: true }));
      expect(failed).toEqual([expect.stringMatching(/^update .*does not recreate a removed record: .*update of a removed record must return null/s)]);
    });

    it('a touch that creates a record', async () => {
      const failed = await failuresOf(runStoreConformance(() => new RecreatingTouchStore(), { skipTtl: true }));
      expect(failed).toEqual([expect.stringMatching(/^touch .*never recreates.*touch recreated a removed record/)]);
    });

    it('a store that claims to expire records but does not', async () => {
      const [ttlCase] = storeConformanceCases(() => new DictStore()).filter((c) => c.name.includes('ttl=1'));
      await expect(ttlCase!.run()).rejects.toThrow(/expected no record/);
    });

    it('a client-side store run without { clientSide: true }', async () => {
      const [first] = storeConformanceCases(() => new ClientStore());
      await expect(first!.run()).rejects.toThrow(/pass \{ clientSide: true \}/);
    });

    it('a client-side store whose expiry is not checked on read', async () => {
      class Forever extends ClientStore {
        override async read(id: string): Promise<Uint8Array | null> {
          return super.read(id.replace(/^\d+/, String(Number.MAX_SAFE_INTEGER)));
        }
      }
      const [ttlCase] = storeConformanceCases(() => new Forever(), { clientSide: true }).filter((c) => c.name.includes('ttl=1'));
      await expect(ttlCase!.run()).rejects.toThrow(/expected no record/);
    });
  });
});
