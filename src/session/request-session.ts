import { createSessionData } from '../compat/express-session-api.js';
import { SessionCookieView } from '../compat/session-cookie-view.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { AnyRequest, AnyResponse } from '../platform/http-platform.js';
import type { Snapshot } from '../records/session-codec.js';
import { generateSessionId } from './session-id.js';
import type { SessionRuntime } from './session-runtime.js';

export type FlashMessages = Record<string, unknown[]>;

/**
 * Where a request's session is: `unloaded` (nothing read yet; a skipped request stays here),
 * `loading`, `loaded`, `committed` (a commit started; the data stays readable, and a change
 * made once the head is out may still be saved).
 */
export type SessionPhase = 'unloaded' | 'loading' | 'loaded' | 'committed';

/** A record this request removes, and the user it was bound to (to update the user index). */
export interface Removal {
  readonly id: string;
  readonly userId: string | undefined;
}

/** The loaded record a regenerate moved away from, as it was (to check it still exists). */
export interface MovedFrom {
  readonly id: string;
  readonly created: number;
  readonly accessed: number;
  readonly snapshot: Snapshot;
  readonly userId: string | undefined;
}

/**
 * One request's session: its data, the record it came from, and what this request intends to
 * do with it (move it to a new ID, destroy it, remove records). Created on first use (load,
 * destroy, getId) and shared by guards, parameter decorators, the interceptor and the service.
 */
export class RequestSession {
  phase: SessionPhase = 'unloaded';
  /** The `skip` option matched: no session handling at all. */
  skipped = false;
  /** Never persisted and never sends a cookie (a skipped request, or a store outage). */
  anonymous = false;

  /**
   * The user's object. destroy() empties it in place; only express-session's `regenerate()` and
   * `reload()` replace it (as express-session does, and Passport expects).
   */
  data: SessionData;
  /** The request object the session was first loaded through (for the express-session API). */
  request: AnyRequest;
  /** Current ID; a new session gets one on first need. */
  id: string | undefined;
  /** ID of the store record this session was loaded from and will update. */
  recordId: string | undefined;
  /** What the record held when loaded (or last saved), to detect changes by comparison. */
  snapshot: Snapshot | undefined;
  created: number;
  accessed: number;
  /** The user the session is bound to (`bindUser`). */
  userId: string | undefined;
  userAgent: string | undefined;
  /** Flash messages set by the previous request: readable now, gone after this one. */
  flashIn: FlashMessages = {};
  /** Flash messages for the next request. */
  flashOut: FlashMessages = {};
  /** This session's own lifetime in seconds (remember me); undefined: the module's `lifetime`. */
  lifetime: number | undefined;
  /** The CSRF synchronizer secret, created when a token is first asked for. */
  csrfSecret: string | undefined;

  // ---- intents of this request ----
  previous: MovedFrom | undefined;
  /** Records to delete at commit: destroyed, regenerated away, or found expired. */
  readonly removals: Removal[] = [];
  /** The request's cookie names a session this request removes; clear it unless replaced. */
  clientCookieStale = false;
  /** The cookie was verified by an older secret: re-issue it under the first one. */
  reissue = false;
  regenerated = false;
  destroyed = false;
  /** An express-session record this request moves over (the `legacy` option): removed at commit. */
  legacyId: string | undefined;
  /** The request carries express-session's cookie: the response clears it. */
  legacyCookieStale = false;

  // ---- response ----
  /** The response, when known, so a head flushed before commit still carries the cookie. */
  response: AnyResponse | undefined;
  /** The response head was written before the interceptor's commit (`@Res()`, `@Sse()`). */
  flushed = false;
  /** The commit that started (a second attempt only awaits it). */
  committing: Promise<void> | undefined;

  private loading: Promise<SessionData> | undefined;
  private cookie: SessionCookieView | undefined;

  constructor(private readonly runtime: SessionRuntime) {
    this.created = this.accessed = Date.now();
    this.data = createSessionData(this);
  }

  get loaded(): boolean {
    return this.phase === 'loaded' || this.phase === 'committed';
  }

  /** Loads once per request, however often it is asked; `req` gets the data on its property. */
  load(req: AnyRequest): Promise<SessionData> {
    if (this.loaded) {
      // Loaded through another object of the same request (Fastify middleware gets the raw one).
      req[this.runtime.options.requestProperty] = this.data;
      return Promise.resolve(this.data);
    }
    this.request ??= req;
    return (this.loading ??= this.loadFrom(req));
  }

  /**
   * express-session's regenerate: a new ID and a new, empty data object (the old one keeps its
   * keys, so Passport's `keepSessionInfo` can copy them back). The old record is removed at commit.
   */
  async regenerateEmpty(): Promise<void> {
    const req = this.request;
    await this.load(req);
    if (this.anonymous) return;
    // Nothing moves: the new session starts empty, so no check that the old record still exists.
    this.previous = undefined;
    this.moveToNewId();
    this.userId = this.userAgent = this.lifetime = undefined;
    this.flashIn = {};
    this.flashOut = {};
    this.data = createSessionData(this);
    req[this.runtime.options.requestProperty] = this.data;
  }

  /** Persists the session now (express-session's save); the response still carries its cookie. */
  async saveNow(): Promise<void> {
    await this.load(this.request);
    await this.runtime.committer.saveNow(this);
  }

  /** Reads the session again from its record, dropping unsaved changes (express-session's reload). */
  async reload(): Promise<void> {
    const req = this.request;
    await this.load(req);
    const id = this.recordId;
    if (id === undefined) throw new Error('failed to load session: it has no stored record');
    // In place, so a handler's own reference sees the reloaded data too.
    const data = this.data;
    const unsaved = { ...data };
    for (const key of Object.keys(data)) delete data[key];
    // loadRecord sets recordId only when it found the record (not gone, expired or undecodable).
    this.recordId = undefined;
    await this.loadRecord(id, 0);
    if (this.recordId !== id) {
      Object.assign(data, unsaved);
      this.recordId = id;
      throw new Error('failed to load session: its record is gone');
    }
    req[this.runtime.options.requestProperty] = data;
  }

  /** Gives this session its own lifetime in seconds (remember me); 0: a browser-session cookie. */
  setLifetime(seconds: number): void {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`A session lifetime must be a finite number of seconds >= 0 (got ${String(seconds)}).`);
    }
    this.lifetime = seconds;
  }

  /** `session.cookie`, as express-session code reads and sets it. */
  cookieView(): SessionCookieView {
    return (this.cookie ??= new SessionCookieView(this, this.runtime.options, this.runtime.expiry));
  }

  /** Keeps the data under a new ID; the old record is removed at commit. */
  async regenerate(req: AnyRequest): Promise<void> {
    await this.load(req);
    if (this.anonymous) return;
    if (this.recordId !== undefined && this.snapshot && !this.previous) {
      const { recordId: id, created, accessed, snapshot, userId } = this;
      this.previous = { id, created, accessed, snapshot, userId };
    }
    this.moveToNewId();
  }

  /** A new ID (and times) for this session; the record it had is removed at commit. */
  private moveToNewId(): void {
    // A session that had no record yet (a first login) is simply created: nothing to move away from.
    const moved = this.recordId !== undefined || this.regenerated;
    this.forgetRecord();
    this.id = generateSessionId();
    this.created = this.accessed = Date.now();
    this.regenerated = moved;
    // A login must not keep a token an attacker could have planted or read before it.
    this.csrfSecret = undefined;
  }

  /** Ends the session, loaded or not; data written afterwards starts a new one. */
  async destroy(req: AnyRequest): Promise<void> {
    if (this.loading) await this.loading;
    if (this.skipped || this.runtime.isSkipped(req)) {
      this.anonymous = this.skipped = true;
      return;
    }
    if (!this.loaded) this.markLoaded(req);
    if (this.recordId === undefined && !this.destroyed) {
      // Never loaded (or the store was down): remove what the cookie names without reading it.
      const verified = this.runtime.cookie.read(req, false);
      if (verified) {
        this.removals.push({ id: verified.id, userId: await this.runtime.users.ownerOf(verified.id) });
        this.clientCookieStale = true;
      } else if (this.runtime.legacy && this.legacyId === undefined) {
        // Only express-session's cookie (the `legacy` option): its record goes too, or the next
        // request would migrate the session back in.
        const legacyId = this.runtime.legacy.idFrom(req);
        if (legacyId !== undefined) {
          this.legacyId = legacyId;
          this.legacyCookieStale = true;
        }
      }
    }
    this.forgetRecord();
    for (const key of Object.keys(this.data)) delete this.data[key];
    this.id = this.userId = this.userAgent = this.lifetime = this.csrfSecret = undefined;
    this.flashOut = {};
    this.created = this.accessed = Date.now();
    this.regenerated = false;
    this.destroyed = true;
  }

  /** The ID as the client will know it: undefined without a session. */
  currentId(): string | undefined {
    return this.anonymous ? undefined : (this.id ??= generateSessionId());
  }

  private async loadFrom(req: AnyRequest): Promise<SessionData> {
    this.phase = 'loading';
    if (this.runtime.isSkipped(req)) {
      // No session handling at all: never marked loaded, nothing set on the request; whoever
      // asked gets an empty object that is never saved.
      this.anonymous = this.skipped = true;
      this.phase = 'unloaded';
      return this.data;
    }
    const verified = this.runtime.cookie.read(req, true);
    if (verified) await this.loadRecord(verified.id, verified.secretIndex);
    else if (this.runtime.legacy) await this.loadLegacy(req);
    this.markLoaded(req);
    return this.data;
  }

  /** Reads the record the cookie names into this session (or leaves it new and empty). */
  async loadRecord(id: string, secretIndex: number): Promise<void> {
    const { runtime } = this;
    let decoded;
    try {
      decoded = await runtime.records.read(id);
    } catch (error) {
      if (runtime.options.storeFailure === 'reject') throw error;
      this.anonymous = true;
      return;
    }
    if (decoded === null) return runtime.rejectCookie('unknown or removed session ID');
    if (decoded === undefined) return runtime.rejectCookie('session data failed to decrypt or deserialize');
    if (runtime.expiry.isExpired(decoded, Date.now(), decoded.meta.lifetime)) {
      this.removals.push({ id, userId: decoded.meta.userId });
      this.clientCookieStale = true;
      runtime.events.report('expired', id, decoded.meta.userId);
      return runtime.rejectCookie('session expired');
    }
    // Into the object the session already has: no second object per load.
    Object.assign(this.data, decoded.data);
    this.id = this.recordId = id;
    this.snapshot = decoded.snapshot;
    this.created = decoded.created;
    this.accessed = decoded.accessed;
    this.userId = decoded.meta.userId;
    this.userAgent = decoded.meta.userAgent;
    this.flashIn = { ...(decoded.meta.flash as FlashMessages | undefined) };
    this.lifetime = decoded.meta.lifetime;
    this.csrfSecret = decoded.meta.csrfSecret;
    this.reissue = secretIndex > 0;
  }

  /**
   * An express-session session (the `legacy` option): its data becomes this new session's, to be
   * stored under a fresh ID by this response, which also removes the old record and clears the
   * old cookie. An expired or unknown one is refused (and its cookie cleared all the same).
   */
  private async loadLegacy(req: AnyRequest): Promise<void> {
    const legacy = this.runtime.legacy!;
    const id = legacy.idFrom(req);
    if (id === undefined) return;
    let record;
    try {
      record = await legacy.read(id);
    } catch (error) {
      if (this.runtime.options.storeFailure === 'reject') throw error;
      this.anonymous = true;
      return;
    }
    this.legacyId = id;
    this.legacyCookieStale = true;
    if (record === null) return this.runtime.rejectCookie('express-session session unknown or expired');
    Object.assign(this.data, record.data);
  }

  private markLoaded(req: AnyRequest): void {
    this.phase = 'loaded';
    this.loading = undefined;
    req[this.runtime.options.requestProperty] = this.data;
  }

  /** Schedules the loaded record for removal; the session continues under a new ID. */
  forgetRecord(): void {
    if (this.recordId !== undefined) {
      this.removals.push({ id: this.recordId, userId: this.userId });
      this.clientCookieStale = true;
    }
    this.recordId = undefined;
    this.snapshot = undefined;
    this.reissue = false;
  }
}
