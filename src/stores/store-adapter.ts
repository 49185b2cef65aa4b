import type { LoggerService } from '@nestjs/common';
import { MAX_COOKIE_SIZE } from '../session.constants.js';
import { SessionStoreUnavailableError } from '../errors/session.errors.js';
import { storeErrorDetail } from '../errors/store-error-detail.js';
import type {
  ClientSideSessionStore,
  LockingSessionStore,
  MergeableSessionStore,
  SessionFieldPatch,
  SessionStore,
  SyncEncodingSessionStore,
  UpdatableSessionStore,
  UserIndexedSessionStore,
  UserSessionEntry,
} from '../interfaces/session-store.interface.js';
import { LocalLockTable } from '../locks/local-lock.table.js';

export type StoreOperation = 'read' | 'write' | 'remove' | 'touch' | 'lock' | 'index';

/** A record to write: whole (`blob`, any store) or as a field patch (per-key stores). */
export interface RecordWrite {
  readonly mode: 'create' | 'update';
  readonly id: string;
  readonly ttl: number;
  readonly blob?: Uint8Array;
  readonly patch?: SessionFieldPatch;
}

/** What a store holds for an ID: its fields (per-key stores) or its bytes. */
export type StoredRecord = { readonly fields: ReadonlyMap<string, Uint8Array> } | { readonly bytes: Uint8Array };

/**
 * The module's one view of the configured store. Its optional capabilities are resolved once
 * (update falls back to write, lock to a table in this process), and every call goes through
 * one error policy: a failure is logged once, with anything shaped like a session ID masked,
 * and surfaces as `SessionStoreUnavailableError` (503) naming the operation.
 */
export class StoreAdapter {
  /** The data lives in the cookie: no server-side record, the "ID" is the encoded data. */
  readonly clientSide: boolean;
  /** Largest cookie (name, `=` and value) the store's cookies may reach. */
  readonly maxCookieSize: number;
  /** Per-key records: a commit sends only the changed fields. */
  readonly mergeable: boolean;
  readonly canTouch: boolean;
  /** The store's own fallback TTL, which wins over the module's. */
  readonly fallbackTtl: number | undefined;
  private readonly updatable: UpdatableSessionStore | undefined;
  private readonly fieldStore: MergeableSessionStore | undefined;
  private readonly indexed: UserIndexedSessionStore | undefined;
  private readonly locking: LockingSessionStore | undefined;
  private readonly localLocks = new LocalLockTable();

  constructor(
    readonly store: SessionStore,
    private readonly lifetime: number,
    private readonly logger: LoggerService | undefined,
  ) {
    const capabilities = store as Partial<
      MergeableSessionStore & UpdatableSessionStore & UserIndexedSessionStore & ClientSideSessionStore & LockingSessionStore
    >;
    this.clientSide = capabilities.clientSide === true;
    this.maxCookieSize = this.clientSide ? (store as ClientSideSessionStore).maxSize : MAX_COOKIE_SIZE;
    this.fieldStore =
      typeof capabilities.patch === 'function' && typeof capabilities.readFields === 'function' ? (store as MergeableSessionStore) : undefined;
    this.mergeable = this.fieldStore !== undefined;
    this.updatable = typeof capabilities.update === 'function' ? (store as UpdatableSessionStore) : undefined;
    this.indexed = typeof capabilities.indexUserSession === 'function' ? (store as UserIndexedSessionStore) : undefined;
    this.locking =
      typeof capabilities.acquireLock === 'function' && typeof capabilities.releaseLock === 'function' ? (store as LockingSessionStore) : undefined;
    this.canTouch = typeof store.touch === 'function' && !this.clientSide;
    this.fallbackTtl = typeof store.fallbackTtl === 'number' && store.fallbackTtl > 0 ? store.fallbackTtl : undefined;
  }

  /** Only an update writes conditionally; a store without `update` (or fields) is last-writer-wins. */
  get updatesOnlyExisting(): boolean {
    return this.updatable !== undefined || this.fieldStore !== undefined;
  }

  get hasUserIndex(): boolean {
    return this.indexed !== undefined;
  }

  /** `null` when the ID is unknown. */
  read(id: string): Promise<StoredRecord | null> {
    return this.call('read', async () => {
      if (this.fieldStore) {
        const fields = await this.fieldStore.readFields(id, this.lifetime);
        return fields && fields.size > 0 ? { fields } : null;
      }
      const bytes = await this.store.read(id, this.lifetime);
      return bytes && bytes.length > 0 ? { bytes } : null;
    });
  }

  /** Writes a record; resolves to the ID to put in the cookie, or `null` when an update found it gone. */
  write(write: RecordWrite): Promise<string | null> {
    return this.call('write', async () => {
      if (write.patch) return (await this.fieldStore!.patch(write.id, write.patch, write.ttl, write.mode)) ? write.id : null;
      if (write.mode === 'update' && this.updatable) return this.updatable.update(write.id, write.blob!, this.lifetime, write.ttl);
      return (await this.store.write(write.id, write.blob!, this.lifetime, write.ttl)) || write.id;
    });
  }

  /** `false`: the record is gone (a concurrent request removed it). */
  async touch(id: string, ttl: number): Promise<boolean> {
    return (await this.call('touch', () => this.store.touch!(id, ttl))) !== false;
  }

  remove(id: string): Promise<void> {
    return this.call('remove', () => this.store.remove(id));
  }

  /** Takes back a record a failed commit created; its failure is the original error's business. */
  async discard(id: string): Promise<void> {
    await this.store.remove(id).catch(() => undefined);
  }

  acquireLock(id: string, token: string, ttl: number): Promise<boolean> {
    return this.call('lock', async () => (this.locking ? this.locking.acquireLock(id, token, ttl) : this.localLocks.acquire(id, token, ttl)));
  }

  releaseLock(id: string, token: string): Promise<void> {
    return this.call('lock', async () => (this.locking ? this.locking.releaseLock(id, token) : this.localLocks.release(id, token)));
  }

  index(userId: string, entry: UserSessionEntry): Promise<void> {
    return this.call('index', () => this.indexed!.indexUserSession(userId, entry));
  }

  unindex(userId: string, handle: string): Promise<void> {
    return this.call('index', () => this.indexed!.unindexUserSession(userId, handle));
  }

  listUser(userId: string): Promise<UserSessionEntry[]> {
    return this.call('index', () => this.indexed!.listUserSessions(userId));
  }

  resolveHandle(handle: string): Promise<{ userId: string; sessionId: string } | null> {
    return this.call('index', () => this.indexed!.resolveUserSession(handle));
  }

  /** For a client-side store, the cookie value that carries the record itself. */
  encodeForCookie(write: RecordWrite): string {
    return (this.store as SyncEncodingSessionStore).encodeSync(write.id, write.blob!, this.lifetime, write.ttl);
  }

  private async call<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.logger?.error(`Session store ${operation} failed: ${storeErrorDetail(error)}`);
      throw new SessionStoreUnavailableError(operation, error);
    }
  }
}
