import type { LoggerService } from '@nestjs/common';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { SessionStore } from '../interfaces/session-store.interface.js';
import type { AnyRequest } from '../platform/http-platform.js';
import { SessionCookie } from '../cookies/session-cookie.js';
import { SessionEventLog } from '../events/session-event-log.js';
import type { SessionEvents } from '../events/session-events.service.js';
import { SessionCodec } from '../records/session-codec.js';
import { SessionRecords } from '../records/session-records.js';
import { StoreAdapter } from '../stores/store-adapter.js';
import { SessionCommitter } from '../commit/session-committer.js';
import { UserSessions } from '../user-sessions/user-sessions.js';
import { LegacySessions } from '../legacy/legacy-sessions.js';
import { SessionExpiry } from './session-expiry.js';

/**
 * The module-wide parts every request's session works with, built once from the options and
 * the store: the cookie, the store adapter, the records, expiry, the event log, the user index.
 */
export class SessionRuntime {
  readonly logger: LoggerService | undefined;
  readonly store: StoreAdapter;
  readonly cookie: SessionCookie;
  readonly records: SessionRecords;
  readonly expiry: SessionExpiry;
  readonly events: SessionEventLog;
  readonly users: UserSessions;
  readonly committer: SessionCommitter;
  /** express-session's sessions to move over (the `legacy` option), if any. */
  readonly legacy: LegacySessions | undefined;
  /** Whether the `skip` option exempts a request from session handling. */
  readonly isSkipped: (req: AnyRequest) => boolean;

  constructor(
    readonly options: ResolvedSessionOptions,
    store: SessionStore,
    events: SessionEvents,
  ) {
    this.logger = options.logger === false ? undefined : options.logger;
    this.store = new StoreAdapter(store, options.lifetime, this.logger);
    this.cookie = new SessionCookie(options, this.store.maxCookieSize, (reason) => this.rejectCookie(reason));
    this.records = new SessionRecords(this.store, new SessionCodec(options.serializer, options.encryptor, options.secret[0]));
    // A store's own fallbackTtl wins for that store (it is the one that keeps the records).
    this.expiry = new SessionExpiry({ ...options, fallbackTtl: this.store.fallbackTtl ?? options.fallbackTtl });
    this.events = new SessionEventLog(events, this.logger);
    this.users = new UserSessions(this.store, this.events);
    this.legacy = options.legacy && new LegacySessions(options.legacy, options.cookie.secure, this.logger);
    this.committer = new SessionCommitter(this);
    const skip = options.skip;
    this.isSkipped = typeof skip === 'string' ? (req) => req.headers?.[skip] !== undefined : (skip ?? (() => false));
    if (this.store.clientSide && !options.encryptor) {
      this.logger?.warn(
        'CookieStore without an encryptor: session data is signed but readable by the client. ' +
          'Set `encryptor` (AesGcmEncryptor or FernetEncryptor) unless the data is public.',
      );
    }
  }

  rejectCookie(reason: string): void {
    this.logger?.warn(`Rejected session cookie (${reason}); starting a new session.`);
  }
}
