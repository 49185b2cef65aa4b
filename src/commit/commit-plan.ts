import { CLEAR_COOKIE, KEEP_COOKIE, type CookieDecision } from '../cookies/session-cookie.js';
import { isEmptySession, type SessionCodec, type SessionMeta, type Snapshot } from '../records/session-codec.js';
import type { RequestSession, Removal } from '../session/request-session.js';
import type { SessionExpiry } from '../session/session-expiry.js';
import { generateSessionId } from '../session/session-id.js';
import type { RecordWrite, StoreAdapter } from '../stores/store-adapter.js';

export type LifecycleEventType = 'created' | 'regenerated' | 'destroyed';

/** The per-user index entry to refresh once the record is written or touched. */
export interface IndexRefresh {
  readonly userId: string;
  readonly created: number;
  readonly lastSeen: number;
  readonly expiresAt: number;
  readonly userAgent?: string;
}

/** What one commit will do, decided synchronously so it can also run at header-flush time. */
export interface CommitPlan {
  readonly removals: readonly Removal[];
  readonly write?: RecordWrite;
  readonly touch?: { readonly id: string; readonly ttl: number };
  /**
   * The record a regenerate moves away from, re-encoded with its own unchanged content: it must
   * still exist, or the move is void (a concurrent logout stays a logout).
   */
  readonly movedFrom?: RecordWrite;
  readonly cookie: CookieDecision;
  readonly events: readonly LifecycleEventType[];
  /** What the record holds once this plan ran (undefined: the session ends). */
  readonly snapshot?: Snapshot;
  readonly index?: IndexRefresh;
  /** The express-session record this commit moves away from (the `legacy` option), to remove. */
  readonly legacy?: string;
  /** Clear express-session's cookie (the request carried one this module moved or refused). */
  readonly clearLegacyCookie?: boolean;
}

/** A commit that does nothing: no store call, no cookie. */
export const NOTHING_TO_COMMIT: CommitPlan = Object.freeze({ removals: [], cookie: KEEP_COOKIE, events: [] });

export function isNothing(plan: CommitPlan): boolean {
  return (
    !plan.write && !plan.touch && plan.removals.length === 0 && plan.cookie.kind === 'keep' && plan.events.length === 0 &&
    plan.legacy === undefined && !plan.clearLegacyCookie
  );
}

/**
 * Decides a commit: the store operations and one cookie decision, from the session and the
 * response status alone. Synchronous and free of I/O (it may encode and encrypt the record,
 * and gives a new session its ID), so the same decision serves after the handler and at the
 * moment the response head is flushed.
 */
export class CommitPlanner {
  constructor(
    private readonly codec: SessionCodec,
    private readonly expiry: SessionExpiry,
    private readonly store: StoreAdapter,
    private readonly rolling: boolean,
  ) {}

  /** Throws (before anything is stored or sent) when the session cannot be encoded. */
  prepare(session: RequestSession, status: number, now: number): CommitPlan {
    // A failed response persists no change; a skipped or unused session has nothing to commit.
    if (status >= 500 || session.skipped || !session.loaded) return NOTHING_TO_COMMIT;
    if (session.anonymous) return { removals: [...session.removals], cookie: KEEP_COOKIE, events: [] };
    const plan = this.decide(session, now);
    const { legacyId, legacyCookieStale } = session;
    return legacyId === undefined && !legacyCookieStale ? plan : { ...plan, legacy: legacyId, clearLegacyCookie: legacyCookieStale };
  }

  private decide(session: RequestSession, now: number): CommitPlan {
    const removals = [...session.removals];

    const events: LifecycleEventType[] = [];
    if (session.destroyed) events.push('destroyed');
    const { lifetime } = session;
    const meta: SessionMeta = { userId: session.userId, userAgent: session.userAgent, flash: session.flashOut, lifetime, csrfSecret: session.csrfSecret };
    if (isEmptySession(session.data, meta)) {
      // A session that had data and is now empty leaves no record and no cookie behind.
      if (session.recordId !== undefined) removals.push({ id: session.recordId, userId: session.userId });
      const clear = session.clientCookieStale || session.recordId !== undefined;
      return { removals, cookie: clear ? CLEAR_COOKIE : KEEP_COOKIE, events };
    }

    // A write stamps the last access with `now`.
    const left = this.expiry.remainingMs(session.created, now, now, lifetime);
    const ttl = this.expiry.storeTtl(left);
    const maxAge = this.expiry.cookieMaxAge(left, lifetime);
    const isNew = session.recordId === undefined;
    const diff = this.diff(session, meta, isNew);
    const indexEntry = (remaining: number): IndexRefresh | undefined =>
      session.userId === undefined
        ? undefined
        : { userId: session.userId, created: session.created, lastSeen: now, expiresAt: now + remaining, userAgent: session.userAgent };

    if (!isNew && !diff.changed) {
      const id = session.recordId as string;
      if (!this.rolling) {
        const cookie: CookieDecision = session.reissue ? { kind: 'set', value: id, maxAge } : KEEP_COOKIE;
        return { removals, cookie, events, snapshot: diff.snapshot };
      }
      // The idle deadline is enforced from the stored last-access stamp, so a store whose touch
      // ignores TTLs cannot keep an idle session alive: a recent stamp is only touched (TTL and
      // cookie count from the stamp, never past the deadline), an older one is rewritten below
      // (for per-key stores, the stamp field alone: the data is not rewritten).
      if (this.store.canTouch && !this.expiry.stampIsStale(session.accessed, now, lifetime)) {
        const sinceStamp = this.expiry.remainingMs(session.created, session.accessed, now, lifetime);
        const touch = { id, ttl: this.expiry.storeTtl(sinceStamp) };
        const cookie: CookieDecision = { kind: 'set', value: id, maxAge: this.expiry.cookieMaxAge(sinceStamp, lifetime) };
        return { removals, touch, cookie, events, snapshot: diff.snapshot, index: indexEntry(sinceStamp) };
      }
    }

    // Only a write pays for encoding (and encryption).
    const record = diff.encode(session.created, now);
    const index = indexEntry(left);
    if (isNew) {
      events.push(session.regenerated ? 'regenerated' : 'created');
      const id = (session.id ??= generateSessionId());
      const previous = session.regenerated && !session.destroyed ? session.previous : undefined;
      const movedFrom = previous && this.rewriteOf(previous.id, previous.created, previous.accessed, previous.snapshot, ttl);
      const write: RecordWrite = { mode: 'create', id, ttl, ...record };
      return { removals, movedFrom, write, cookie: this.cookieFor(write, maxAge), events, snapshot: diff.snapshot, index };
    }
    const write: RecordWrite = { mode: 'update', id: session.recordId as string, ttl, ...record };
    return { removals, write, cookie: this.cookieFor(write, maxAge), events, snapshot: diff.snapshot, index };
  }

  /** What changed since the snapshot, and how to encode the record if it must be written. */
  private diff(session: RequestSession, meta: SessionMeta, isNew: boolean) {
    if (this.store.mergeable) {
      const diff = this.codec.diffFields(session.data, meta, session.snapshot, isNew);
      const snapshot = diff.snapshot as Snapshot & { kind: 'fields' };
      const encode = (created: number, now: number) => ({ patch: this.codec.encodePatch(created, now, snapshot, diff) });
      return { changed: diff.changed, snapshot, encode };
    }
    const diff = this.codec.diffBlob(session.data, meta, session.snapshot);
    const snapshot = diff.snapshot as Snapshot & { kind: 'blob' };
    const encode = (created: number, now: number) => ({ blob: this.codec.encodeBlob(created, now, snapshot) });
    return { changed: diff.changed, snapshot, encode };
  }

  /** The record as it was, to check (by an update that changes nothing) that it still exists. */
  private rewriteOf(id: string, created: number, accessed: number, snapshot: Snapshot, ttl: number): RecordWrite {
    if (snapshot.kind === 'fields') {
      const unchanged = { changedKeys: [], retiredFields: [], userChanged: false, flashChanged: false };
      return { mode: 'update', id, ttl, patch: this.codec.encodePatch(created, accessed, snapshot, unchanged) };
    }
    return { mode: 'update', id, ttl, blob: this.codec.encodeBlob(created, accessed, snapshot) };
  }

  /** For a client-side store the cookie carries the record itself, so it is encoded here. */
  private cookieFor(write: RecordWrite, maxAge: number | undefined): CookieDecision {
    return { kind: 'set', value: this.store.clientSide ? this.store.encodeForCookie(write) : write.id, maxAge };
  }
}
