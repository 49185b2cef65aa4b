import type { AnyRequest } from '../platform/http-platform.js';
import type { SessionManager } from '../session/session.manager.js';
import type { SessionRuntime } from '../session/session-runtime.js';

/**
 * The CSRF secret of the request's session, or `undefined` when it has none (no session, a
 * skipped or anonymous one, or no token was ever issued to it).
 *
 * Loads the session for the rest of the request, except `beforeLock`: on a `@SessionLock()`
 * route the interceptor takes the lock before it reads the session, and a guard that loaded it
 * first would hand the handler data read outside the lock (lost updates). There the secret is
 * read from the record without loading the session: one more store read, on those routes only.
 */
export async function csrfSecretOf(manager: SessionManager, req: AnyRequest, beforeLock: boolean): Promise<string | undefined> {
  const existing = manager.existingSession(req);
  if (existing?.loaded) return existing.csrfSecret;
  if (beforeLock) return peekCsrfSecret(manager.runtime, req);
  await manager.load(req);
  return manager.existingSession(req)?.csrfSecret;
}

/** Reads the secret from the record the cookie names, as a load would, without keeping anything. */
async function peekCsrfSecret(runtime: SessionRuntime, req: AnyRequest): Promise<string | undefined> {
  if (runtime.isSkipped(req)) return undefined;
  const verified = runtime.cookie.read(req, false);
  if (!verified) return undefined;
  let decoded;
  try {
    decoded = await runtime.records.read(verified.id);
  } catch (error) {
    // The same outcome a load would have: 503, or no session at all.
    if (runtime.options.storeFailure === 'reject') throw error;
    return undefined;
  }
  if (!decoded || runtime.expiry.isExpired(decoded, Date.now(), decoded.meta.lifetime)) return undefined;
  return decoded.meta.csrfSecret;
}
