import type { LoggerService } from '@nestjs/common';
import { parseCookie, stringifySetCookie } from '../cookies/cookie-header.js';
import { SessionStoreUnavailableError } from '../errors/session.errors.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { AnyRequest } from '../platform/http-platform.js';
import { unsignExpressSessionCookie } from './express-session-cookie.js';
import { parseExpressSessionRecord, type ExpressSessionRecord } from './express-session-record.js';

type LegacyOptions = NonNullable<ResolvedSessionOptions['legacy']>;

/**
 * express-session's sessions, for the `legacy` option: its signed cookie under its old name,
 * its record from where the app kept it. Each one is moved to this module's format by the first
 * response that loads it; the old record is then removed and the old cookie cleared.
 */
export class LegacySessions {
  /** The `Set-Cookie` value that clears express-session's cookie. */
  readonly clearingCookie: string;

  constructor(
    private readonly options: LegacyOptions,
    private readonly secure: boolean,
    private readonly logger: LoggerService | undefined,
  ) {
    this.clearingCookie = stringifySetCookie({
      name: options.cookieName,
      value: '',
      path: options.cookiePath,
      domain: options.cookieDomain,
      httpOnly: true,
      secure,
      maxAge: 0,
      expires: new Date(0),
    });
  }

  /** The ID a correctly signed express-session cookie carries, if the request has one. */
  idFrom(req: AnyRequest): string | undefined {
    const header: string | undefined = req.headers?.cookie;
    if (!header || !header.includes(this.options.cookieName)) return undefined;
    const value = parseCookie(header, { decode: (raw) => raw })[this.options.cookieName];
    if (value === undefined) return undefined;
    const id = unsignExpressSessionCookie(value, this.options.secret);
    if (id === null) this.logger?.warn('Rejected express-session cookie (bad signature or malformed); not migrated.');
    return id ?? undefined;
  }

  /** The old session's data; `null` when it is unknown or expired. A failing source is a store failure. */
  async read(id: string): Promise<ExpressSessionRecord | null> {
    let raw: unknown;
    try {
      raw = await this.options.source.get(id);
    } catch (error) {
      this.logger?.error(`Legacy session source read failed: ${error instanceof Error ? error.message : String(error)}`.replace(/[A-Za-z0-9_-]{20,}/g, '[redacted]'));
      throw new SessionStoreUnavailableError('read', error);
    }
    return parseExpressSessionRecord(raw, Date.now());
  }

  async remove(id: string): Promise<void> {
    try {
      await this.options.source.destroy(id);
    } catch (error) {
      this.logger?.error(`Legacy session source remove failed: ${error instanceof Error ? error.message : String(error)}`.replace(/[A-Za-z0-9_-]{20,}/g, '[redacted]'));
      throw new SessionStoreUnavailableError('remove', error);
    }
  }
}
