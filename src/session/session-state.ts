import type { SessionData } from '../interfaces/session-data.interface.js';
import type { AnyResponse } from '../platform/http-platform.js';
import type { Snapshot } from './session-codec.js';

export type FlashMessages = Record<string, unknown[]>;

/** A record this request removes, and the user it was bound to (to update the user index). */
export interface Removal {
  readonly id: string;
  readonly userId: string | undefined;
}

/**
 * Everything the module knows about one request's session. Created on first use (load,
 * destroy, getId) and kept on the request under a symbol, so guards, parameter decorators,
 * the interceptor and the service all see the same one.
 */
export class SessionState {
  /** The user's object. Its identity never changes: destroy() empties it in place. */
  data: SessionData = {};
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
  /** The loaded record a regenerate moved away from, as it was (to check it still exists). */
  previous: { readonly id: string; readonly created: number; readonly accessed: number; readonly snapshot: Snapshot; readonly userId: string | undefined } | undefined;
  /** Records to delete at commit: destroyed, regenerated away, or found expired. */
  readonly removals: Removal[] = [];
  /** The request's cookie names a session this request removes; clear it unless replaced. */
  clientCookieStale = false;
  /** The cookie was verified by an older secret: re-issue it under the first one. */
  reissue = false;
  /** Never persisted and never sends a cookie (skipped request or store outage). */
  anonymous = false;
  /** The `skip` option matched: no session handling at all. */
  skipped = false;
  regenerated = false;
  destroyed = false;
  loaded = false;
  loading: Promise<SessionData> | undefined;
  /** The response, when known, so a head flushed before commit still carries the cookie. */
  response: AnyResponse | undefined;
  /** The response head was written before the interceptor's commit (`@Res()`, `@Sse()`). */
  flushed = false;
  /** Commit has started (or finished); a second commit attempt only awaits it. */
  committing: Promise<void> | undefined;

  constructor(now: number) {
    this.created = now;
    this.accessed = now;
  }
}
