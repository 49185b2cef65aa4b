import { DEFAULT_FALLBACK_TTL } from '../session.constants.js';
import { LocalLockTable } from '../locks/local-lock.table.js';
import { applyFieldPatch, decodeFieldRecord, decodeFieldRecordText, encodeFieldRecordText } from '../records/field-record.js';
import type {
  LockingSessionStore,
  MergeableSessionStore,
  SessionFieldPatch,
  UpdatableSessionStore,
  UserIndexedSessionStore,
  UserSessionEntry,
} from '../interfaces/session-store.interface.js';

export interface MemoryStoreOptions {
  /** Most sessions kept at once; the oldest entry is evicted first. Default 100000. */
  maxEntries?: number;
  /** How often expired entries are swept, in ms. Default 60000. */
  sweepInterval?: number;
  /**
   * Seconds a browser-session record (`lifetime` 0) lives after its last write, and what a
   * `ttl <= 0` means. When set it wins over the module's `fallbackTtl` for this store.
   * Default: the module's `fallbackTtl` (2592000, 30 days).
   */
  fallbackTtl?: number;
}

interface Entry {
  /**
   * What was written: a caller's bytes, or a per-key record as its JSON text. A string is the
   * compact form: a Buffer per session adds a typed-array object and pins a shared 8 KiB slab.
   */
  data: Uint8Array | string;
  expiresAt: number;
  /** `data` decoded as a field record, kept once a session is read (it is read again soon). */
  fields: ReadonlyMap<string, Uint8Array> | null | undefined;
}

/**
 * The entry's record decoded as fields, kept with the data it came from (never mutated: a patch
 * builds a new map), so a session read on every request is decoded once per write.
 */
function fieldsOf(entry: Entry): ReadonlyMap<string, Uint8Array> | null {
  if (entry.fields === undefined) entry.fields = typeof entry.data === 'string' ? decodeFieldRecordText(entry.data) : decodeFieldRecord(entry.data);
  return entry.fields;
}

/**
 * The text as one flat string. JSON.stringify returns a rope of the chunks it was built in
 * (measured: 457 B held for a 286-character record, 312 B once flat); a UTF-8 round trip through
 * the Buffer pool is the cheapest copy that comes out flat.
 */
function flatText(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * The embedded default store: one process, lost on restart. Bounded, so a flood of new
 * sessions cannot exhaust memory; entries expire on their own. It has every optional
 * capability: per-key patches (concurrent changes to different keys merge), update-only-if-
 * present, touch, locks for `@SessionLock()`, and a per-user index.
 */
export class MemoryStore
  implements UpdatableSessionStore, MergeableSessionStore, LockingSessionStore, UserIndexedSessionStore
{
  readonly maxEntries: number;
  /** The store's own `fallbackTtl`, when given: the module then uses it for `lifetime: 0` sessions. */
  readonly fallbackTtl: number | undefined;
  private readonly fallbackSeconds: number;
  // A Map iterates in insertion order, which makes "oldest first" eviction O(1).
  private readonly entries = new Map<string, Entry>();
  private readonly users = new Map<string, Map<string, UserSessionEntry>>();
  private readonly handles = new Map<string, string>();
  private readonly locks = new LocalLockTable();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = 100_000, sweepInterval = 60_000, fallbackTtl } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`MemoryStore: \`maxEntries\` must be a positive integer (got ${String(maxEntries)}).`);
    }
    if (typeof sweepInterval !== 'number' || !(sweepInterval > 0)) {
      throw new TypeError(`MemoryStore: \`sweepInterval\` must be a positive number of ms (got ${String(sweepInterval)}).`);
    }
    if (fallbackTtl !== undefined && (typeof fallbackTtl !== 'number' || !Number.isFinite(fallbackTtl) || fallbackTtl <= 0)) {
      throw new RangeError(`MemoryStore: \`fallbackTtl\` must be a positive number of seconds (got ${String(fallbackTtl)}).`);
    }
    this.maxEntries = maxEntries;
    this.fallbackTtl = fallbackTtl;
    this.fallbackSeconds = fallbackTtl ?? DEFAULT_FALLBACK_TTL;
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
    if (entry === undefined) return null;
    // Made per call rather than kept: the bytes would double what an active session costs.
    return typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : entry.data;
  }

  /** `data` may also be text, stored as it is and read back as its UTF-8 bytes. */
  async write(id: string, data: Uint8Array | string, _lifetime: number, ttl: number): Promise<string> {
    this.put(id, data, ttl);
    return id;
  }

  async update(id: string, data: Uint8Array | string, lifetime: number, ttl: number): Promise<string | null> {
    if (!this.live(id)) return null;
    return this.write(id, data, lifetime, ttl);
  }

  // Per-key records are stored as one value (the JSON form readSessionData decodes) and go
  // through read, write and update, so whatever observes those sees every operation.
  async readFields(id: string): Promise<ReadonlyMap<string, Uint8Array> | null> {
    const before = this.entries.get(id);
    const bytes = await this.read(id);
    if (bytes === null) return null;
    // Unchanged since the read (a write replaces the entry): its kept decoding is current.
    const entry = this.entries.get(id);
    return entry !== undefined && entry === before ? fieldsOf(entry) : decodeFieldRecord(bytes);
  }

  async patch(id: string, patch: SessionFieldPatch, ttl: number, mode: 'create' | 'update'): Promise<boolean> {
    const current = mode === 'update' ? this.live(id) : undefined;
    if (mode === 'update' && !current) return false;
    // A session that was being read stays decoded after the write; a new one is decoded when it is first read.
    const wasRead = current?.fields !== undefined;
    const decoded = current && fieldsOf(current);
    if (decoded === null) return false;
    // Merged and stored with no await in between: no other request's patch can interleave.
    const fields = applyFieldPatch(decoded ?? new Map(), patch);
    const record = flatText(encodeFieldRecordText(fields));
    const written = mode === 'create' ? (await this.write(id, record, 0, ttl), true) : (await this.update(id, record, 0, ttl)) !== null;
    const stored = this.entries.get(id);
    if (written && wasRead && stored?.data === record) stored.fields = fields;
    return written;
  }

  async remove(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async touch(id: string, ttl: number): Promise<boolean> {
    const entry = this.live(id);
    if (entry) entry.expiresAt = this.expiresAt(ttl);
    return entry !== undefined;
  }

  async acquireLock(id: string, token: string, ttl: number): Promise<boolean> {
    return this.locks.acquire(id, token, ttl);
  }

  async releaseLock(id: string, token: string): Promise<void> {
    this.locks.release(id, token);
  }

  async indexUserSession(userId: string, entry: UserSessionEntry): Promise<void> {
    let sessions = this.users.get(userId);
    if (!sessions) this.users.set(userId, (sessions = new Map()));
    sessions.set(entry.handle, entry);
    this.handles.set(entry.handle, userId);
  }

  async listUserSessions(userId: string): Promise<UserSessionEntry[]> {
    const sessions = this.users.get(userId);
    if (!sessions) return [];
    const now = Date.now();
    for (const [handle, entry] of sessions) {
      // Expired, evicted or removed sessions leave the index here.
      if (entry.expiresAt <= now || !this.live(entry.sessionId)) this.dropIndex(userId, handle);
    }
    return [...sessions.values()];
  }

  async unindexUserSession(userId: string, handle: string): Promise<void> {
    this.dropIndex(userId, handle);
  }

  async resolveUserSession(handle: string): Promise<{ userId: string; sessionId: string } | null> {
    const userId = this.handles.get(handle);
    const entry = userId === undefined ? undefined : this.users.get(userId)?.get(handle);
    return userId !== undefined && entry ? { userId, sessionId: entry.sessionId } : null;
  }

  /** Removes every entry and stops the sweep timer. */
  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.users.clear();
    this.handles.clear();
  }

  private put(id: string, data: Uint8Array | string, ttl: number): void {
    // Re-inserting moves the entry to the young end, so eviction takes the least recently written.
    this.entries.delete(id);
    this.entries.set(id, { data, expiresAt: this.expiresAt(ttl), fields: undefined });
    if (this.entries.size > this.maxEntries) this.evictOldest();
  }

  /** `ttl <= 0` (or not a number) keeps the record for the fallback, as RedisStore does. */
  private expiresAt(ttl: number): number {
    return Date.now() + (Number.isFinite(ttl) && ttl > 0 ? ttl : this.fallbackSeconds) * 1000;
  }

  private dropIndex(userId: string, handle: string): void {
    const sessions = this.users.get(userId);
    sessions?.delete(handle);
    if (sessions?.size === 0) this.users.delete(userId);
    this.handles.delete(handle);
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
    for (const [userId, sessions] of this.users) {
      for (const [handle, entry] of sessions) if (entry.expiresAt <= now) this.dropIndex(userId, handle);
    }
  }
}
