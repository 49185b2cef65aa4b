import { KEEP_COOKIE, type CookieDecision } from '../cookies/session-cookie.js';
import type { UserSessionEntry } from '../interfaces/session-store.interface.js';
import type { StoreAdapter } from '../stores/store-adapter.js';
import type { LegacySessions } from '../legacy/legacy-sessions.js';
import type { UserSessions } from '../user-sessions/user-sessions.js';
import type { CommitPlan } from './commit-plan.js';

/**
 * Runs a plan's store operations in the order that keeps a failed commit from changing
 * anything, and resolves to the cookie decision that still holds: `keep` where a concurrent
 * request removed the session meanwhile (no cookie keeps a dead ID alive). A failing store call
 * rejects with `SessionStoreUnavailableError`, after undoing what this commit created.
 */
export async function runCommit(plan: CommitPlan, store: StoreAdapter, users: UserSessions, legacy?: LegacySessions): Promise<CookieDecision> {
  let cookie = plan.cookie;
  if (store.clientSide) {
    // Nothing to store server-side, but a moved express-session record still goes.
    if (plan.legacy !== undefined && legacy) await legacy.remove(plan.legacy);
    return cookie;
  }
  const { write, touch, movedFrom } = plan;
  if (touch && !(await store.touch(touch.id, touch.ttl))) cookie = KEEP_COOKIE;
  if (write) {
    const written = await store.write(write);
    // null: a concurrent request destroyed this session; it stays destroyed.
    cookie = written === null ? KEEP_COOKIE : { kind: 'set', value: written, maxAge: plan.cookie.kind === 'set' ? plan.cookie.maxAge : undefined };
  }
  // Everything after the write is undone on failure, so a 5xx changes nothing: the new record
  // is taken back and the old one was never altered.
  const created = write?.mode === 'create' && cookie.kind === 'set' ? cookie.value : undefined;
  try {
    // A regenerate whose old record a concurrent request destroyed must not bring its data back
    // under the new ID.
    if (movedFrom && store.updatesOnlyExisting && (await store.write(movedFrom)) === null) {
      if (created !== undefined) await store.remove(created);
      return KEEP_COOKIE;
    }
    for (const { id } of plan.removals) await store.remove(id);
    // A moved express-session record goes once its data is safely stored here.
    if (plan.legacy !== undefined && legacy) await legacy.remove(plan.legacy);
  } catch (error) {
    if (created !== undefined) await store.discard(created);
    throw error;
  }
  await refreshIndex(plan, cookie, store, users);
  return cookie;
}

async function refreshIndex(plan: CommitPlan, cookie: CookieDecision, store: StoreAdapter, users: UserSessions): Promise<void> {
  if (!store.hasUserIndex) return;
  for (const { id, userId } of plan.removals) {
    // (A session destroyed without being loaded got its user from the index in destroy().)
    if (userId !== undefined) await store.unindex(userId, users.handleOf(id));
  }
  // A touch that found the record gone left no cookie to send: no index entry for a dead session.
  const sessionId = cookie.kind !== 'set' ? undefined : plan.write ? cookie.value : plan.touch?.id;
  if (plan.index && sessionId) {
    const entry: UserSessionEntry = { handle: users.handleOf(sessionId), sessionId, ...plan.index };
    await store.index(plan.index.userId, entry);
  }
}
