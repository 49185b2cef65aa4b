/**
 * The contract every session store fulfils. Payloads are opaque bytes: the module has already
 * serialized (and, when configured, encrypted) them, and the store never looks inside.
 *
 * `lifetime` is the configured session lifetime in seconds (0 for browser-session cookies);
 * `ttl` is how many seconds the record may still live. A store that can expire entries should
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
  /** Extends the record's expiry without rewriting it (rolling sessions). */
  touch?(id: string, ttl: number): Promise<void>;
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
