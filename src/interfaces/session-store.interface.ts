/**
 * The contract every session store fulfils. Payloads are opaque bytes: the module has already
 * serialized (and, when configured, encrypted) them, and the store never looks inside.
 *
 * `lifetime` is the configured session lifetime in seconds (0 for browser-session cookies);
 * `ttl` is how many seconds the record may still live (millisecond precision, so it may be
 * fractional: round up for a backend that takes whole seconds). A store that can expire entries should
 * drop them after `ttl` seconds; the module enforces expiry itself as well.
 */
export interface SessionStore {
  /** The stored bytes, or `null` (an empty payload counts the same) when the ID is unknown. */
  read(id: string, lifetime: number): Promise<Uint8Array | null>;
  /**
   * Creates or replaces the record and returns the ID to put in the cookie. Most stores return
   * `id` unchanged; a store that keeps the data in the cookie returns the encoded data.
   */
  write(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string>;
  /** Removes the record. Removing an unknown ID is not an error. */
  remove(id: string): Promise<void>;
  /**
   * Extends the record's expiry without rewriting it (rolling sessions). May resolve to `false`
   * when the record no longer exists, so no cookie is sent for a session that is gone.
   */
  touch?(id: string, ttl: number): Promise<void | boolean>;
  /**
   * Optional: seconds this store keeps a browser-session record (`lifetime` 0) after its last
   * write. When a store sets it, it wins over the module's `fallbackTtl` for that store: the
   * module computes every TTL it passes (create, change, touch) and the server-side expiry
   * from it. A `ttl <= 0` passed by a direct caller means the same fallback (the built-in
   * stores agree on that); the module itself always passes a positive `ttl`.
   */
  readonly fallbackTtl?: number;
}

/**
 * Optional capability: write only when the record still exists. The module uses it for every
 * update of an existing session, so a slow request can never bring back a session that a
 * concurrent request destroyed (a logout is never undone). Stores without it fall back to
 * `write` (last writer wins).
 */
export interface UpdatableSessionStore extends SessionStore {
  /** Like `write`, but returns `null` and writes nothing when the record no longer exists. */
  update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string | null>;
}

/**
 * Optional capability of stores whose encoding is synchronous (the cookie store). Lets the
 * module compute the cookie at the moment headers are flushed, for handlers that write the
 * response themselves (`@Res()`, `@Sse()`).
 */
export interface SyncEncodingSessionStore extends SessionStore {
  encodeSync(id: string, data: Uint8Array, lifetime: number, ttl: number): string;
}

/**
 * Optional capability: the store keeps the session data in the cookie itself, so there is no
 * server-side record to remove, and the "ID" is the encoded data.
 */
export interface ClientSideSessionStore extends SessionStore {
  readonly clientSide: true;
  /** Largest cookie (name, `=` and value) the store accepts, in bytes. */
  readonly maxSize: number;
}

/** The fields a patch sets (each value opaque bytes) and the fields it removes. */
export interface SessionFieldPatch {
  readonly set: ReadonlyMap<string, Uint8Array>;
  readonly unset: readonly string[];
}

/**
 * Optional capability: the record is a map of fields (one per top-level session key, plus
 * metadata), and a commit writes only the fields that changed. Concurrent requests of one
 * session that change different keys then lose none of them. The module uses it instead of
 * read/write when a store has it.
 */
export interface MergeableSessionStore extends SessionStore {
  /** Every field of the record, or `null` when the ID is unknown. */
  readFields(id: string, lifetime: number): Promise<ReadonlyMap<string, Uint8Array> | null>;
  /**
   * Applies the patch atomically and sets the TTL. `create` replaces whatever was there;
   * `update` writes only when the record still exists and returns `false` when it is gone.
   */
  patch(id: string, patch: SessionFieldPatch, ttl: number, mode: 'create' | 'update'): Promise<boolean>;
}

/**
 * Optional capability: a per-session lock for `@SessionLock()`, held by a random token and
 * released only by its owner; it expires by itself after `ttl` ms (a crashed holder).
 */
export interface LockingSessionStore extends SessionStore {
  acquireLock(id: string, token: string, ttl: number): Promise<boolean>;
  releaseLock(id: string, token: string): Promise<void>;
}

/** One of a user's sessions, as the per-user index keeps it. */
export interface UserSessionEntry {
  /** A handle for the session (not its ID: listing sessions never exposes a bearer token). */
  readonly handle: string;
  /** The session ID, for the module only. */
  readonly sessionId: string;
  readonly created: number;
  readonly lastSeen: number;
  readonly expiresAt: number;
  readonly userAgent?: string;
}

/**
 * Optional capability: an index of the sessions bound to each user, for listing them and
 * revoking them ("log out everywhere").
 */
export interface UserIndexedSessionStore extends SessionStore {
  indexUserSession(userId: string, entry: UserSessionEntry): Promise<void>;
  /** Live entries of the user (entries past `expiresAt` are left out and may be pruned). */
  listUserSessions(userId: string): Promise<UserSessionEntry[]>;
  unindexUserSession(userId: string, handle: string): Promise<void>;
  /** The user and session of a handle, or `null`. */
  resolveUserSession(handle: string): Promise<{ userId: string; sessionId: string } | null>;
}
