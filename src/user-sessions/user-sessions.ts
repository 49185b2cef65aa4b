import { createHash } from 'node:crypto';
import type { SessionEventLog } from '../events/session-event-log.js';
import type { StoreAdapter } from '../stores/store-adapter.js';

/** One of a user's sessions, as `listForUser` reports it. */
export interface UserSessionInfo {
  /** Pass it to `revoke()`. Not the session ID: a listing never exposes bearer tokens. */
  readonly handle: string;
  readonly created: Date;
  readonly lastSeen: Date;
  readonly expiresAt: Date;
  readonly userAgent?: string;
  /** The session of the request that asked. */
  readonly current: boolean;
}

/** The per-user index: list a user's sessions, revoke one, or all (log out everywhere). */
export class UserSessions {
  constructor(
    private readonly store: StoreAdapter,
    private readonly events: SessionEventLog,
  ) {}

  /**
   * A public handle for a session ID: listing a user's sessions never exposes IDs. A hash of a
   * 192-bit random ID reveals nothing about it, and does not change when secrets rotate.
   */
  handleOf(id: string): string {
    return createHash('sha256').update(`session-handle:${id}`).digest('base64url').slice(0, 22);
  }

  /** `currentId`: the ID of the asking request's session, to mark it. */
  async list(userId: string, currentId: string | undefined): Promise<UserSessionInfo[]> {
    this.require('listForUser');
    const entries = await this.store.listUser(userId);
    const now = Date.now();
    return entries
      .filter((entry) => entry.expiresAt > now)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map((entry) => ({
        handle: entry.handle,
        created: new Date(entry.created),
        lastSeen: new Date(entry.lastSeen),
        expiresAt: new Date(entry.expiresAt),
        userAgent: entry.userAgent,
        current: entry.sessionId === currentId,
      }));
  }

  /** Ends the session behind a handle from `list`; false when it is already gone. */
  async revoke(handle: string): Promise<boolean> {
    this.require('revoke');
    const found = await this.store.resolveHandle(handle);
    if (!found) return false;
    await this.store.remove(found.sessionId);
    await this.store.unindex(found.userId, handle);
    this.events.report('revoked', found.sessionId, found.userId);
    return true;
  }

  /** Ends every session of a user, or all but the one whose ID is `keepId`; returns how many ended. */
  async revokeAll(userId: string, keepId: string | undefined): Promise<number> {
    const sessions = await this.list(userId, keepId);
    let revoked = 0;
    for (const session of sessions) {
      if (keepId !== undefined && session.current) continue;
      if (await this.revoke(session.handle)) revoked++;
    }
    return revoked;
  }

  /** The user an unloaded session is bound to, from the index (undefined without one). */
  async ownerOf(id: string): Promise<string | undefined> {
    if (!this.store.hasUserIndex) return undefined;
    return (await this.store.resolveHandle(this.handleOf(id)))?.userId;
  }

  private require(method: string): void {
    if (!this.store.hasUserIndex) {
      throw new Error(`${method}() needs a store with a per-user index (MemoryStore, RedisStore); this store has none.`);
    }
  }
}
