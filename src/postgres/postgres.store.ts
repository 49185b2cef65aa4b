import { DEFAULT_FALLBACK_TTL } from '../session.constants.js';
import { decodeFieldRecord } from '../records/field-record.js';
import { bufferView } from '../records/buffer-view.js';
import type {
  LockingSessionStore,
  MergeableSessionStore,
  SessionFieldPatch,
  UpdatableSessionStore,
  UserIndexedSessionStore,
  UserSessionEntry,
} from '../interfaces/session-store.interface.js';
import { PostgresPruner } from './postgres-pruner.js';
import { PostgresRunner, type RawRow } from './postgres-runner.js';
import { postgresStatements, regclassNames, type PostgresStatements, type PostgresTableNames } from './postgres-sql.js';
import { PostgresStoreSchemaError } from './postgres.errors.js';
import { resolvePostgresStoreOptions, type PostgresStoreOptions, type ResolvedPostgresStoreOptions } from './postgres.options.js';

/**
 * Session store on PostgreSQL through node-postgres (`pg`), with every optional capability:
 * per-key records (concurrent changes to different keys merge), update-only-if-present, touch,
 * cross-process locks for `@SessionLock()` and a per-user index.
 *
 * Each operation is one statement on one pooled client, checked out for that statement only
 * (never for the length of a request), and bounded by `timeout`. A record is one row: a per-key
 * record is a jsonb object of base64 values (merged in place by one UPDATE), a whole-record
 * payload (`write`/`update`) is bytea. Reads ignore expired rows; a background pruner deletes them.
 */
export class PostgresStore implements UpdatableSessionStore, MergeableSessionStore, LockingSessionStore, UserIndexedSessionStore {
  /** The DDL of the store's tables and indexes, for your own migrations (what `createTable` runs). */
  static schemaSql(names: Partial<PostgresTableNames> = {}): string {
    const { table, schema } = resolvePostgresStoreOptions({ pool: POOL_SHAPE, ...names });
    return postgresStatements({ table, schema }).schema;
  }

  /** The store's own `fallbackTtl`, when given: the module then uses it for `lifetime: 0` sessions. */
  readonly fallbackTtl: number | undefined;
  private readonly options: ResolvedPostgresStoreOptions;
  private readonly sql: PostgresStatements;
  private readonly runner: PostgresRunner;
  private readonly pruner: PostgresPruner;
  private ready: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.options = resolvePostgresStoreOptions(options);
    this.fallbackTtl = this.options.fallbackTtl;
    const { pool, table, schema, timeout, createTable, pruneInterval, pruneBatch } = this.options;
    this.sql = postgresStatements({ table, schema });
    this.runner = new PostgresRunner(pool, timeout);
    // Lazily, once, inside the first statements' own budgets: Nest runs onModuleInit on
    // providers only, and a store passed as an instance may never get it.
    if (createTable) this.runner.before = () => this.init();
    const { sessions, users, locks } = this.sql.prune;
    this.pruner = new PostgresPruner(
      async (statement, batch) => (await this.runner.run('prune', statement, [batch])).rowCount,
      [sessions, users, locks],
      pruneBatch,
    );
    if (pruneInterval !== false) this.pruner.start(pruneInterval);
  }

  /**
   * With `createTable`, creates the tables and indexes if they don't exist (idempotent; every
   * first call shares one run); without, checks that they exist (`PostgresStoreSchemaError`
   * names the missing ones). Optional: with `createTable` the first operation does it.
   */
  init(): Promise<void> {
    this.ready ??= this.setUp().catch((error: unknown) => {
      this.ready = undefined; // a failed setup is retried by the next call
      throw error;
    });
    return this.ready;
  }

  async read(id: string, _lifetime?: number): Promise<Buffer | null> {
    const row = await this.readRow(id);
    if (!row) return null;
    // A per-key record reads as its single-value encoding (as RedisStore's GET gives it).
    return row.blob !== null ? fromHex(row.blob) : Buffer.from(row.fields ?? '', 'utf8');
  }

  async write(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string> {
    await this.runner.run('write', this.sql.write, [id, bufferView(data), this.ttlSeconds(lifetime, ttl)]);
    return id;
  }

  async update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string | null> {
    const { rowCount } = await this.runner.run('update', this.sql.update, [id, bufferView(data), this.ttlSeconds(lifetime, ttl)]);
    // A row removed (logout) or expired meanwhile stays gone.
    return rowCount === 1 ? id : null;
  }

  async remove(id: string): Promise<void> {
    await this.runner.run('remove', this.sql.remove, [id]);
  }

  /** False when the row is gone: an UPDATE of a missing row is a no-op, never a recreation. */
  async touch(id: string, ttl: number): Promise<boolean> {
    const { rowCount } = await this.runner.run('touch', this.sql.touch, [id, this.ttlSeconds(undefined, ttl)]);
    return rowCount === 1;
  }

  async readFields(id: string, _lifetime?: number): Promise<Map<string, Uint8Array> | null> {
    const row = await this.readRow(id);
    if (!row) return null;
    return decodeFieldRecord(row.fields !== null ? Buffer.from(row.fields, 'utf8') : fromHex(row.blob ?? ''));
  }

  /**
   * `create`: one INSERT ... ON CONFLICT DO UPDATE that replaces whatever was there. `update`:
   * one UPDATE that merges the changed fields into the live row and drops the removed ones
   * (`fields - removed || set`); a removed or expired row is never recreated (false).
   */
  async patch(id: string, patch: SessionFieldPatch, ttl: number, mode: 'create' | 'update'): Promise<boolean> {
    const seconds = this.ttlSeconds(undefined, ttl);
    const set: Record<string, string> = {};
    const unset = new Set(patch.unset);
    // A field both set and unset ends up absent, as MemoryStore and RedisStore apply a patch.
    for (const [field, value] of patch.set) if (!unset.has(field)) set[field] = bufferView(value).toString('base64');
    const fields = JSON.stringify(set);
    if (mode === 'create') {
      await this.runner.run('write', this.sql.patchCreate, [id, fields, seconds]);
      return true;
    }
    const { rowCount } = await this.runner.run('update', this.sql.patchUpdate, [id, [...unset], fields, seconds]);
    return rowCount === 1;
  }

  /** Takes the lock when nobody holds it or its holder's expired; `ttl` in ms. */
  async acquireLock(id: string, token: string, ttl: number): Promise<boolean> {
    const { rowCount } = await this.runner.run('lock', this.sql.acquireLock, [id, token, Math.max(1, Math.ceil(ttl))]);
    return rowCount === 1;
  }

  /** Releases the lock only for its owner: a holder whose lock expired never frees its successor's. */
  async releaseLock(id: string, token: string): Promise<void> {
    await this.runner.run('lock', this.sql.releaseLock, [id, token]);
  }

  async indexUserSession(userId: string, entry: UserSessionEntry): Promise<void> {
    const { handle, sessionId, created, lastSeen, expiresAt, userAgent } = entry;
    await this.runner.run('index', this.sql.indexUser, [handle, userId, sessionId, created, lastSeen, expiresAt, userAgent ?? null]);
  }

  /** Live entries whose session row is live too (a removed session leaves the listing at once). */
  async listUserSessions(userId: string): Promise<UserSessionEntry[]> {
    const { rows } = await this.runner.run('index', this.sql.listUser, [userId]);
    return rows.map((row) => ({
      handle: row.handle!,
      sessionId: row.session_id!,
      created: Number(row.created),
      lastSeen: Number(row.last_seen),
      expiresAt: Number(row.expires_at),
      ...(row.user_agent !== null ? { userAgent: row.user_agent } : {}),
    }));
  }

  async unindexUserSession(userId: string, handle: string): Promise<void> {
    await this.runner.run('index', this.sql.unindexUser, [userId, handle]);
  }

  async resolveUserSession(handle: string): Promise<{ userId: string; sessionId: string } | null> {
    const { rows } = await this.runner.run('index', this.sql.resolveHandle, [handle]);
    const row = rows[0];
    return row ? { userId: row.user_id!, sessionId: row.session_id! } : null;
  }

  /**
   * Deletes every expired row now (sessions, index entries, locks), in batches of `pruneBatch`;
   * resolves to the number deleted. The timer calls this; call it yourself (from a cron, say)
   * with `pruneInterval: false`.
   */
  prune(): Promise<number> {
    return this.pruner.prune();
  }

  /** Stops the prune timer and waits for a running prune. The pool stays open: the app owns it. */
  close(): Promise<void> {
    return this.pruner.stop();
  }

  /** Nest calls this on shutdown (`app.close()`, with shutdown hooks) when the store is a provider. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  private async readRow(id: string): Promise<RawRow | undefined> {
    return (await this.runner.run('read', this.sql.read, [id])).rows[0];
  }

  private async setUp(): Promise<void> {
    if (this.options.createTable) {
      await this.runner.runFirst('init', this.sql.setup);
      this.runner.before = undefined; // done: statements no longer wait for it
      return;
    }
    const { table, schema } = this.options;
    const { rows } = await this.runner.runFirst('init', this.sql.checkTables, regclassNames({ table, schema }));
    const found = rows[0] ?? {};
    const { sessions, users, locks } = this.sql.qualified;
    const missing = [
      [found.sessions, sessions],
      [found.users, users],
      [found.locks, locks],
    ].flatMap(([exists, name]) => (exists ? [] : [name!]));
    if (missing.length > 0) throw new PostgresStoreSchemaError(missing);
  }

  /**
   * Seconds the row lives. The module's `ttl` is exact (it already applies this store's
   * `fallbackTtl` to `lifetime: 0` sessions); `ttl <= 0` asks for the fallback (the store's, else
   * the module's default), as the other built-in stores do; a direct caller's `lifetime: 0`
   * write is still capped by the fallback.
   */
  private ttlSeconds(lifetime: number | undefined, ttl: number): number {
    const fallback = this.fallbackTtl ?? DEFAULT_FALLBACK_TTL;
    if (!(Number.isFinite(ttl) && ttl > 0)) return fallback;
    return lifetime === 0 ? Math.min(ttl, fallback) : ttl;
  }
}

/** Passes the options' pool check when only the names are validated (`schemaSql`). */
const POOL_SHAPE = { connect() {}, query() {} } as unknown as PostgresStoreOptions['pool'];

/** bytea's text output (`\x` + hex) to bytes. */
function fromHex(text: string): Buffer {
  return Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex');
}

