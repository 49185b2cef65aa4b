import type { UpdatableSessionStore } from '../interfaces/session-store.interface.js';

export interface MemoryStoreOptions {
  /** Most sessions kept at once; the oldest entry is evicted first. Default 100000. */
  maxEntries?: number;
  /** How often expired entries are swept, in ms. Default 60000. */
  sweepInterval?: number;
}

interface Entry {
  data: Uint8Array;
  expiresAt: number;
}

/**
 * The embedded default store: one process, lost on restart. Bounded, so a flood of new
 * sessions cannot exhaust memory; entries expire on their own.
 */
export class MemoryStore implements UpdatableSessionStore {
  readonly maxEntries: number;
  // A Map iterates in insertion order, which makes "oldest first" eviction O(1).
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = 100_000, sweepInterval = 60_000 } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`MemoryStore: \`maxEntries\` must be a positive integer (got ${String(maxEntries)}).`);
    }
    if (typeof sweepInterval !== 'number' || !(sweepInterval > 0)) {
      throw new TypeError(`MemoryStore: \`sweepInterval\` must be a positive number of ms (got ${String(sweepInterval)}).`);
    }
    this.maxEntries = maxEntries;
    this.sweeper = setInterval(() => this.sweep(), sweepInterval);
    // The sweep must never be the reason a process stays alive.
    this.sweeper.unref();
  }

  /** Number of entries held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  async read(id: string): Promise<Uint8Array | null> {
    const entry = this.live(id);
    return entry ? entry.data : null;
  }

  async write(id: string, data: Uint8Array, _lifetime: number, ttl: number): Promise<string> {
    // Re-inserting moves the entry to the young end, so eviction takes the least recently written.
    this.entries.delete(id);
    this.entries.set(id, { data, expiresAt: Date.now() + ttl * 1000 });
    if (this.entries.size > this.maxEntries) this.evictOldest();
    return id;
  }

  async update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string | null> {
    if (!this.live(id)) return null;
    return this.write(id, data, lifetime, ttl);
  }

  async remove(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async touch(id: string, ttl: number): Promise<void> {
    const entry = this.live(id);
    if (entry) entry.expiresAt = Date.now() + ttl * 1000;
  }

  /** Removes every entry and stops the sweep timer. */
  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  private live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(id);
    }
  }
}
