import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';

/** When a session was created and last written (or touched, on stores without touch). */
export interface SessionTimes {
  readonly created: number;
  readonly accessed: number;
}

/** The longest a rolling session's stored last-access stamp may lag behind (see stampRefreshMs). */
const MAX_STAMP_AGE_MS = 60_000;

type ExpiryOptions = Pick<ResolvedSessionOptions, 'lifetime' | 'rolling' | 'maxLifetime' | 'fallbackTtl'>;

/**
 * Server-side expiry, computed from metadata stored outside the user's data, so a session ends
 * on time whatever the cookie's Max-Age or the store's TTL say (a store may ignore TTLs, or
 * prune late).
 */
export class SessionExpiry {
  private readonly fallbackMs: number;
  private readonly maxLifetimeMs: number | undefined;

  constructor(private readonly options: ExpiryOptions) {
    this.fallbackMs = options.fallbackTtl * 1000;
    this.maxLifetimeMs = options.maxLifetime === undefined ? undefined : options.maxLifetime * 1000;
  }

  /**
   * A rolling session's last-access stamp is refreshed in the record when it is older than this;
   * a younger one is only touched (no record write). The idle deadline is computed from the
   * stamp, so it may fall this much early, never late. `lifetime`: the session's own, if set.
   */
  stampRefreshMs(lifetime = this.options.lifetime): number {
    return Math.min((lifetime > 0 ? lifetime * 1000 : this.fallbackMs) / 20, MAX_STAMP_AGE_MS);
  }

  /** Whether a loaded record is past its deadline. */
  isExpired(times: SessionTimes, now: number, lifetime?: number): boolean {
    return now >= this.deadline(times.created, times.accessed, lifetime);
  }

  /** Milliseconds the session has left at `now`, if its last access is stamped `accessed`. */
  remainingMs(created: number, accessed: number, now: number, lifetime?: number): number {
    return this.deadline(created, accessed, lifetime) - now;
  }

  /** Whether a rolling read-only commit must rewrite the last-access stamp rather than only touch. */
  stampIsStale(accessed: number, now: number, lifetime?: number): boolean {
    return now - accessed >= this.stampRefreshMs(lifetime);
  }

  /**
   * Store TTL in seconds with millisecond precision: never longer than the session has left
   * (whole seconds rounded up would outlive it) and never shorter (rounded down, a 2 s session
   * written 3 ms after its creation would vanish after 1 s).
   */
  storeTtl(remainingMs: number): number {
    return Math.max(1, Math.floor(remainingMs)) / 1000;
  }

  /**
   * Cookie Max-Age: rounded up, so a valid session never gets `Max-Age=0` (starsessions
   * truncated it); none for a lifetime of 0 (browser-session cookie).
   */
  cookieMaxAge(remainingMs: number, lifetime = this.options.lifetime): number | undefined {
    return lifetime === 0 ? undefined : Math.max(1, Math.ceil(remainingMs / 1000));
  }

  private deadline(created: number, accessed: number, lifetime = this.options.lifetime): number {
    const lifetimeMs = lifetime * 1000;
    // Fixed expiry counts from creation; rolling (and browser-session records) from the last access.
    const deadline = lifetime > 0 && !this.options.rolling ? created + lifetimeMs : accessed + (lifetime > 0 ? lifetimeMs : this.fallbackMs);
    return this.maxLifetimeMs === undefined ? deadline : Math.min(deadline, created + this.maxLifetimeMs);
  }
}
