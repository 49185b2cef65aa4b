import { createHash } from 'node:crypto';
import { MAX_COOKIE_SIZE } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type {
  ClientSideSessionStore,
  MergeableSessionStore,
  SessionFieldPatch,
  SessionStore,
  SyncEncodingSessionStore,
  UpdatableSessionStore,
  UserIndexedSessionStore,
  UserSessionEntry,
} from '../interfaces/session-store.interface.js';
import { SessionCodec, isEmptySession, type DecodedSession, type SessionMeta, type Snapshot } from './session-codec.js';
import { SessionExpiry } from './session-expiry.js';
import { generateSessionId } from './session-id.js';
import type { Removal, SessionState } from './session-state.js';

export type StoreOperation = 'read' | 'write' | 'remove' | 'touch' | 'lock' | 'index';
export type LifecycleEventType = 'created' | 'regenerated' | 'destroyed';

interface Write {
  readonly mode: 'create' | 'update';
  readonly id: string;
  readonly ttl: number;
  readonly blob?: Uint8Array;
  readonly patch?: SessionFieldPatch;
}

/** What one commit will do, decided synchronously so it can also run at header-flush time. */
export interface CommitPlan {
  readonly removals: readonly Removal[];
  readonly write?: Write;
  readonly touch?: { readonly id: string; readonly ttl: number };
  /**
   * The record a regenerate moves away from, re-encoded with its own unchanged content: it must
   * still exist, or the move is void (a concurrent logout stays a logout).
   */
  readonly movedFrom?: Write;
  /** ID (or, for a client-side store, encoded data) to sign into the cookie; `null` clears it. */
  readonly cookie?: { readonly value: string; readonly maxAge: number | undefined } | null;
  readonly events: readonly LifecycleEventType[];
  /** What the record holds once this plan ran (undefined: the session ends). */
  readonly snapshot?: Snapshot;
  /** The per-user index entry to refresh once the record is written or touched. */
  readonly index?: { readonly userId: string; readonly created: number; readonly lastSeen: number; readonly expiresAt: number; readonly userAgent?: string };
}

/** Raised by `execute` when a store call fails; carries the operation for the 503 and the log. */
export class StoreCallError extends Error {
  constructor(
    readonly operation: StoreOperation,
    override readonly cause: unknown,
  ) {
    super(`store ${operation} failed`);
  }
}

/**
 * Everything between a session and its store: encoding, the store's optional capabilities
 * (update, field patches, touch, the user index), expiry, and the order of store operations
 * that keeps a failed commit from changing anything.
 */
export class SessionPersistence {
  readonly codec: SessionCodec;
  readonly expiry: SessionExpiry;
  readonly clientSide: boolean;
  readonly maxCookieSize: number;
  private readonly mergeable: MergeableSessionStore | undefined;
  private readonly updatable: UpdatableSessionStore | undefined;
  readonly indexed: UserIndexedSessionStore | undefined;

  constructor(
    private readonly options: ResolvedSessionOptions,
    readonly store: SessionStore,
  ) {
    const capabilities = store as Partial<MergeableSessionStore & UpdatableSessionStore & UserIndexedSessionStore & ClientSideSessionStore>;
    this.clientSide = capabilities.clientSide === true;
    this.maxCookieSize = this.clientSide ? (store as ClientSideSessionStore).maxSize : MAX_COOKIE_SIZE;
    this.mergeable = typeof capabilities.patch === 'function' && typeof capabilities.readFields === 'function' ? (store as MergeableSessionStore) : undefined;
    this.updatable = typeof capabilities.update === 'function' ? (store as UpdatableSessionStore) : undefined;
    this.indexed = typeof capabilities.indexUserSession === 'function' ? (store as UserIndexedSessionStore) : undefined;
    this.codec = new SessionCodec(options.serializer, options.encryptor);
    this.expiry = new SessionExpiry(options, typeof store.touch === 'function' && !this.clientSide);
  }

  /**
   * A public handle for a session ID: listing a user's sessions never exposes IDs. A hash of a
   * 192-bit random ID reveals nothing about it, and does not change when secrets rotate.
   */
  handleOf(id: string): string {
    return createHash('sha256').update(`session-handle:${id}`).digest('base64url').slice(0, 22);
  }

  /** The decoded record; `null` when unknown; `undefined` when it does not decode. Store errors propagate. */
  async read(id: string): Promise<DecodedSession | null | undefined> {
    const { lifetime } = this.options;
    if (this.mergeable) {
      const fields = await this.mergeable.readFields(id, lifetime);
      if (!fields || fields.size === 0) return null;
      return this.tryDecode(() => this.codec.decodeFields(fields));
    }
    const bytes = await this.store.read(id, lifetime);
    if (!bytes || bytes.length === 0) return null;
    return this.tryDecode(() => this.codec.decodeBlob(bytes, this.clientSide ? id : undefined));
  }

  private tryDecode(decode: () => DecodedSession): DecodedSession | undefined {
    try {
      return decode();
    } catch {
      // Never falls back to another decoder: undecodable data is no session.
      return undefined;
    }
  }

  /** Synchronous: decides store operations and the cookie. Throws before anything is sent. */
  plan(state: SessionState, now: number): CommitPlan {
    const removals = [...state.removals];
    if (state.anonymous) return { removals, events: [] };

    const events: LifecycleEventType[] = [];
    if (state.destroyed) events.push('destroyed');
    const meta: SessionMeta = { userId: state.userId, userAgent: state.userAgent, flash: state.flashOut };
    if (isEmptySession(state.data, meta)) {
      // A session that had data and is now empty leaves no record and no cookie behind.
      if (state.recordId !== undefined) removals.push({ id: state.recordId, userId: state.userId });
      const clear = state.clientCookieStale || state.recordId !== undefined;
      return { removals, cookie: clear ? null : undefined, events };
    }

    const left = this.expiry.remainingMs(state.created, now);
    const ttl = this.expiry.storeTtl(left);
    const maxAge = this.expiry.cookieMaxAge(left);
    const isNew = state.recordId === undefined;
    const diff = this.diff(state, meta, isNew);
    const index = state.userId === undefined ? undefined : { userId: state.userId, created: state.created, lastSeen: now, expiresAt: now + left, userAgent: state.userAgent };

    if (!isNew && !diff.changed) {
      const id = state.recordId as string;
      if (!this.options.rolling) {
        return { removals, cookie: state.reissue ? { value: id, maxAge } : undefined, events, snapshot: diff.snapshot };
      }
      if (typeof this.store.touch === 'function' && !this.clientSide) {
        return { removals, touch: { id, ttl }, cookie: { value: id, maxAge }, events, snapshot: diff.snapshot, index };
      }
      // Rolling on a store without touch: rewrite the record so the last access moves.
    }

    // Only a write pays for encoding (and encryption).
    const record = diff.encode(state.created, now);
    if (isNew) {
      events.push(state.regenerated ? 'regenerated' : 'created');
      const id = (state.id ??= generateSessionId());
      const previous = state.regenerated && !state.destroyed ? state.previous : undefined;
      const movedFrom = previous && this.rewriteOf(previous.id, previous.created, previous.accessed, previous.snapshot, ttl);
      const write: Write = { mode: 'create', id, ttl, ...record };
      return { removals, movedFrom, write, cookie: this.cookieFor(write, maxAge), events, snapshot: diff.snapshot, index };
    }
    const write: Write = { mode: 'update', id: state.recordId as string, ttl, ...record };
    return { removals, write, cookie: this.cookieFor(write, maxAge), events, snapshot: diff.snapshot, index };
  }

  /** What changed since the snapshot, and how to encode the record if it must be written. */
  private diff(state: SessionState, meta: SessionMeta, isNew: boolean) {
    if (this.mergeable) {
      const diff = this.codec.diffFields(state.data, meta, state.snapshot, isNew);
      const snapshot = diff.snapshot as Snapshot & { kind: 'fields' };
      const encode = (created: number, now: number) => ({ patch: this.codec.encodePatch(created, now, snapshot, diff) });
      return { changed: diff.changed, snapshot, encode };
    }
    const diff = this.codec.diffBlob(state.data, meta, state.snapshot);
    const snapshot = diff.snapshot as Snapshot & { kind: 'blob' };
    const encode = (created: number, now: number) => ({ blob: this.codec.encodeBlob(created, now, snapshot) });
    return { changed: diff.changed, snapshot, encode };
  }

  /** The record as it was, to check (by an update that changes nothing) that it still exists. */
  private rewriteOf(id: string, created: number, accessed: number, snapshot: Snapshot, ttl: number): Write {
    if (snapshot.kind === 'fields') {
      const unchanged = { changedKeys: [], removedKeys: [], userChanged: false, flashChanged: false };
      return { mode: 'update', id, ttl, patch: this.codec.encodePatch(created, accessed, snapshot, unchanged) };
    }
    return { mode: 'update', id, ttl, blob: this.codec.encodeBlob(created, accessed, snapshot) };
  }

  /** For a client-side store the cookie carries the record itself, so it is encoded here. */
  private cookieFor(write: Write, maxAge: number | undefined) {
    if (!this.clientSide) return { value: write.id, maxAge };
    const store = this.store as unknown as SyncEncodingSessionStore;
    return { value: store.encodeSync(write.id, write.blob!, this.options.lifetime, write.ttl), maxAge };
  }

  /**
   * Runs the plan's store operations; resolves to the cookie value to sign (undefined: send no
   * cookie, '': clear it). A failing store call rejects with a StoreCallError.
   */
  async execute(plan: CommitPlan): Promise<string | undefined> {
    let value = plan.cookie === null ? '' : plan.cookie?.value;
    if (this.clientSide) return value;
    const { write, touch, movedFrom } = plan;
    // false: a concurrent request removed the session; no cookie keeps a dead ID alive.
    if (touch && (await this.call('touch', () => this.store.touch!(touch.id, touch.ttl))) === false) value = undefined;
    if (write) {
      const written = await this.call('write', () => this.writeRecord(write));
      // null: a concurrent request destroyed this session; it stays destroyed.
      value = written === null ? undefined : written || write.id;
    }
    // Everything after the write is undone on failure, so a 5xx changes nothing: the new record
    // is taken back and the old one was never altered.
    const created = write?.mode === 'create' ? value : undefined;
    try {
      if (movedFrom && (this.updatable || this.mergeable)) {
        // A regenerate whose old record a concurrent request destroyed must not bring its data
        // back under the new ID.
        if ((await this.call('write', () => this.writeRecord(movedFrom))) === null) {
          if (created !== undefined) await this.call('remove', () => this.store.remove(created));
          return undefined;
        }
      }
      for (const { id } of plan.removals) await this.call('remove', () => this.store.remove(id));
    } catch (error) {
      if (created !== undefined) await this.store.remove(created).catch(() => undefined);
      throw error;
    }
    await this.updateIndex(plan, value);
    return value;
  }

  /** Writes a record; `null` when an update found it gone. */
  private async writeRecord(write: Write): Promise<string | null> {
    const { lifetime } = this.options;
    if (write.patch) {
      const applied = await this.mergeable!.patch(write.id, write.patch, write.ttl, write.mode);
      return applied ? write.id : null;
    }
    if (write.mode === 'update' && this.updatable) return this.updatable.update(write.id, write.blob!, lifetime, write.ttl);
    return this.store.write(write.id, write.blob!, lifetime, write.ttl);
  }

  private async updateIndex(plan: CommitPlan, value: string | undefined): Promise<void> {
    const indexed = this.indexed;
    if (!indexed) return;
    for (const { id, userId } of plan.removals) {
      // (A session destroyed without being loaded got its user from the index in destroy().)
      if (userId !== undefined) await this.call('index', () => indexed.unindexUserSession(userId, this.handleOf(id)));
    }
    // A touch that found the record gone left `value` undefined: no index entry for a dead session.
    const sessionId = value === undefined ? undefined : plan.write ? value : plan.touch?.id;
    if (plan.index && sessionId) {
      const entry: UserSessionEntry = { handle: this.handleOf(sessionId), sessionId, ...plan.index };
      await this.call('index', () => indexed.indexUserSession(plan.index!.userId, entry));
    }
  }

  async call<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw error instanceof StoreCallError ? error : new StoreCallError(operation, error);
    }
  }
}
