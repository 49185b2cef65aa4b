import type { LoggerService } from '@nestjs/common';
import { requestCookie, stringifySetCookie } from '../cookies/cookie-header.js';
import { SessionStoreUnavailableError } from '../errors/session.errors.js';
import { storeErrorDetail } from '../errors/store-error-detail.js';
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
    secure: boolean,
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
    const value = requestCookie(req, this.options.cookieName);
    if (value === undefined) return undefined;
    const id = unsignExpressSessionCookie(value, this.options.secret);
    if (id === null) this.logger?.warn('Rejected express-session cookie (bad signature or malformed); not migrated.');
    return id ?? undefined;
  }

  /** The old session's data; `null` when it is unknown or expired. A failing source is a store failure. */
  async read(id: string): Promise<ExpressSessionRecord | null> {
    const raw = await this.call('read', () => this.options.source.get(id));
    return parseExpressSessionRecord(raw, Date.now());
  }

  remove(id: string): Promise<void> {
    return this.call('remove', () => this.options.source.destroy(id));
  }

  /** The store adapter's error policy, for the old sessions' source: logged once, then a 503. */
  private async call<T>(operation: 'read' | 'remove', run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.logger?.error(`Legacy session source ${operation} failed: ${storeErrorDetail(error)}`);
      throw new SessionStoreUnavailableError(operation, error);
    }
  }
}
