import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { RequestSession } from '../session/request-session.js';
import type { SessionExpiry } from '../session/session-expiry.js';

/**
 * `session.cookie` as express-session has it, backed by the module: `maxAge` (milliseconds, as
 * express-session counts) and `expires` read what the session has left, and setting either
 * gives this session its own lifetime (remember me), still capped by `maxLifetime`. `null`
 * makes it a browser-session cookie. The other attributes are the module's, read-only.
 */
export class SessionCookieView {
  constructor(
    private readonly session: RequestSession,
    private readonly options: ResolvedSessionOptions,
    private readonly expiry: SessionExpiry,
  ) {}

  /** The session's own lifetime, else the module's (seconds; 0: browser session). */
  private lifetime(): number {
    return this.session.lifetime ?? this.options.lifetime;
  }

  /** Milliseconds the session has left if committed now; undefined for a browser-session cookie. */
  private remainingMs(): number | undefined {
    const lifetime = this.lifetime();
    if (lifetime === 0) return undefined;
    const now = Date.now();
    const accessed = this.options.rolling ? now : this.session.accessed;
    return this.expiry.remainingMs(this.session.created, accessed, now, lifetime);
  }

  get maxAge(): number | null {
    const remaining = this.remainingMs();
    return remaining === undefined ? null : Math.max(0, remaining);
  }

  set maxAge(ms: number | null | undefined) {
    if (ms === null || ms === undefined) {
      this.session.setLifetime(0);
      return;
    }
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      throw new RangeError(`session.cookie.maxAge must be a positive number of milliseconds, or null (got ${String(ms)}).`);
    }
    this.session.setLifetime(ms / 1000);
  }

  get originalMaxAge(): number | null {
    const lifetime = this.lifetime();
    return lifetime === 0 ? null : lifetime * 1000;
  }

  get expires(): Date | null {
    const remaining = this.remainingMs();
    return remaining === undefined ? null : new Date(Date.now() + remaining);
  }

  set expires(date: Date | null | undefined) {
    if (date === null || date === undefined) {
      this.session.setLifetime(0);
      return;
    }
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError('session.cookie.expires must be a Date or null.');
    this.maxAge = date.getTime() - Date.now();
  }

  get httpOnly(): boolean {
    return this.options.cookie.httpOnly;
  }

  get secure(): boolean {
    return this.options.cookie.secure;
  }

  get path(): string {
    return this.options.cookie.path;
  }

  get domain(): string | undefined {
    return this.options.cookie.domain;
  }

  get sameSite(): string {
    return this.options.cookie.sameSite;
  }

  toJSON(): Record<string, unknown> {
    return { originalMaxAge: this.originalMaxAge, expires: this.expires, httpOnly: this.httpOnly, secure: this.secure, path: this.path, domain: this.domain, sameSite: this.sameSite };
  }
}
