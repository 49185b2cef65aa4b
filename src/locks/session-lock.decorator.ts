import { SetMetadata } from '@nestjs/common';
import { SESSION_LOCK_METADATA } from '../session.constants.js';

export interface SessionLockOptions {
  /** How long the lock lives (ms) if its holder never releases it (a crashed process). Default 10000. */
  ttl?: number;
  /** How long a request waits for the lock (ms) before answering 409. Default 5000. */
  wait?: number;
}

export type ResolvedSessionLockOptions = Required<SessionLockOptions>;

/**
 * Requests of one session on routes with this decorator run one at a time: across processes
 * with a store that can lock (RedisStore), within the process otherwise. A request that cannot
 * get the lock within `wait` answers 409. The session is loaded once the lock is held.
 */
export const SessionLock = (options: SessionLockOptions = {}): MethodDecorator => {
  const { ttl = 10_000, wait = 5_000 } = options;
  if (!(Number.isFinite(ttl) && ttl > 0) || !(Number.isFinite(wait) && wait >= 0)) {
    throw new TypeError(`@SessionLock(): \`ttl\` must be > 0 and \`wait\` >= 0 milliseconds (got ttl ${ttl}, wait ${wait}).`);
  }
  return SetMetadata(SESSION_LOCK_METADATA, { ttl, wait } satisfies ResolvedSessionLockOptions);
};
