import { describe, expect, it } from '@jest/globals';
import { SessionStoreUnavailableError } from '../../../src/errors/session.errors.js';
import type { SessionStore } from '../../../src/interfaces/session-store.interface.js';
import { CookieStore } from '../../../src/stores/cookie.store.js';
import { MemoryStore } from '../../../src/stores/memory.store.js';
import { StoreAdapter } from '../../../src/stores/store-adapter.js';
import { RecordingLogger } from '../../support/session-app.js';

class MinimalStore implements SessionStore {
  readonly records = new Map<string, Uint8Array>();
  async read(id: string) { return this.records.get(id) ?? null; }
  async write(id: string, data: Uint8Array) { this.records.set(id, data); return id; }
  async remove(id: string) { this.records.delete(id); }
}

const bytes = (text: string) => Buffer.from(text);

describe('StoreAdapter', () => {
  it('resolves the capabilities of each built-in store once', () => {
    const memory = new StoreAdapter(new MemoryStore({ fallbackTtl: 50 }), 60, undefined);
    expect(memory).toMatchObject({ clientSide: false, mergeable: true, canTouch: true, fallbackTtl: 50, hasUserIndex: true, updatesOnlyExisting: true, maxCookieSize: 4096 });
    const cookie = new StoreAdapter(new CookieStore({ maxSize: 2000 }), 60, undefined);
    expect(cookie).toMatchObject({ clientSide: true, mergeable: false, canTouch: false, maxCookieSize: 2000, hasUserIndex: false });
    const minimal = new StoreAdapter(new MinimalStore(), 60, undefined);
    expect(minimal).toMatchObject({ mergeable: false, canTouch: false, fallbackTtl: undefined, updatesOnlyExisting: false, hasUserIndex: false });
  });

  it('a store without update: an update falls back to write (last writer wins)', async () => {
    const store = new MinimalStore();
    const adapter = new StoreAdapter(store, 60, undefined);
    expect(await adapter.write({ mode: 'update', id: 'gone', ttl: 10, blob: bytes('x') })).toBe('gone');
    expect(store.records.get('gone')).toEqual(bytes('x'));
    expect(await adapter.read('gone')).toEqual({ bytes: bytes('x') });
  });

  it('a store without locks: locks are held in this process, released only by their owner', async () => {
    const adapter = new StoreAdapter(new MinimalStore(), 60, undefined);
    expect(await adapter.acquireLock('s', 'a', 1000)).toBe(true);
    expect(await adapter.acquireLock('s', 'b', 1000)).toBe(false);
    await adapter.releaseLock('s', 'b');
    expect(await adapter.acquireLock('s', 'b', 1000)).toBe(false);
    await adapter.releaseLock('s', 'a');
    expect(await adapter.acquireLock('s', 'b', 1000)).toBe(true);
  });

  it('one error policy: logged once with IDs masked, surfaced as a 503 naming the operation', async () => {
    const store = new MinimalStore();
    const id = 'AbCdEfGhIjKlMnOpQrStUvWx0123';
    store.remove = async () => {
      throw new Error(`connection lost while removing ${id}`);
    };
    const logger = new RecordingLogger();
    const adapter = new StoreAdapter(store, 60, logger);
    const failure = adapter.remove(id);
    await expect(failure).rejects.toBeInstanceOf(SessionStoreUnavailableError);
    await expect(failure).rejects.toThrow(/the remove failed/);
    expect(logger.messages()).toEqual(['Session store remove failed: Error: connection lost while removing [redacted]']);
    // Taking back a record a failed commit created never throws (the first error is the one reported).
    await expect(adapter.discard(id)).resolves.toBeUndefined();
  });
});
