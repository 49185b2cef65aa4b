import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';

/** When a session was created and last written (or touched, on stores without touch). */
export interface SessionTimes {
  readonly created: number;
  readonly accessed: number;
}

type ExpiryOptions = Pick<ResolvedSessionOptions, 'lifetime' | 'rolling' | 'maxLifetime' | 'fallbackTtl'>;

/**
 * Server-side expiry, computed from metadata stored outside the user's data, so a session ends
 * on time whatever the cookie's Max-Age or the store's TTL say.
 */
export class SessionExpiry {
  private readonly lifetimeMs: number;
  private readonly fallbackMs: number;
  private readonly maxLifetimeMs: number | undefined;

  constructor(
    private readonly options: ExpiryOptions,
    /** A store with `touch` keeps idle deadlines itself (touch does not rewrite the record). */
    private readonly storeTracksIdle: boolean,
  ) {
    this.lifetimeMs = options.lifetime * 1000;
    this.fallbackMs = options.fallbackTtl * 1000;
    this.maxLifetimeMs = options.maxLifetime === undefined ? undefined : options.maxLifetime * 1000;
  }

  /** Whether a loaded record is past its deadline. */
  isExpired(meta: SessionTimes, now: number): boolean {
    const { lifetime, rolling } = this.options;
    let deadline: number;
    if (lifetime > 0 && !rolling) deadline = meta.created + this.lifetimeMs;
    else if (rolling && this.storeTracksIdle) deadline = Infinity;
    else deadline = meta.accessed + (lifetime > 0 ? this.lifetimeMs : this.fallbackMs);
    return now >= this.capped(meta.created, deadline);
  }

  /** Milliseconds the session has left if committed now. */
  remainingMs(created: number, now: number): number {
    const { lifetime, rolling } = this.options;
    const deadline = lifetime === 0 ? now + this.fallbackMs : rolling ? now + this.lifetimeMs : created + this.lifetimeMs;
    return this.capped(created, deadline) - now;
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
   * truncated it); none for `lifetime: 0` (browser-session cookie).
   */
  cookieMaxAge(remainingMs: number): number | undefined {
    return this.options.lifetime === 0 ? undefined : Math.max(1, Math.ceil(remainingMs / 1000));
  }

  private capped(created: number, deadline: number): number {
    return this.maxLifetimeMs === undefined ? deadline : Math.min(deadline, created + this.maxLifetimeMs);
  }
}
