// Type-only: pg is an optional peer dependency, and this module must load without it.
import type { Pool } from 'pg';
import { IDENTIFIER_PATTERN, MAX_SCHEMA_NAME_LENGTH, MAX_TABLE_NAME_LENGTH } from './postgres-sql.js';
import { PostgresStoreOptionsError } from './postgres.errors.js';

export interface PostgresStoreOptions {
  /** A node-postgres `Pool`. The app owns it: the store checks out one client per statement and never ends the pool. */
  pool: Pool;
  /**
   * Table name (default `'sessions'`); the per-user index and the locks live in `<table>_users`
   * and `<table>_locks`. Lower-case letters, digits and `_`.
   */
  table?: string;
  /** Schema of the tables (it must exist). Default: none, the connection's `search_path` decides. */
  schema?: string;
  /**
   * Milliseconds each operation (pool checkout and statement) may take before it fails with
   * `PostgresStoreTimeoutError`. Default 1000. Enforced by the store, whatever the pool's own
   * settings: a pg Pool waits for a free client, and a client for an answer, without limit.
   */
  timeout?: number;
  /**
   * Seconds a browser-session record (`lifetime` 0) lives after its last write, and what a
   * `ttl <= 0` means. When set it wins over the module's `fallbackTtl` for this store, on every
   * write path (create, change, touch). Default: the module's `fallbackTtl` (30 days by default).
   */
  fallbackTtl?: number;
  /** Create the tables and indexes (idempotently) on first use or `init()`. Default `false`: your migrations own the schema. */
  createTable?: boolean;
  /** Milliseconds between prunes of expired rows, or `false` for none (prune from a cron with `prune()`). Default 60000. */
  pruneInterval?: number | false;
  /** Most rows one prune statement deletes (the prune repeats until a batch comes back short). Default 500. */
  pruneBatch?: number;
}

export interface ResolvedPostgresStoreOptions {
  readonly pool: Pool;
  readonly table: string;
  readonly schema: string | undefined;
  readonly timeout: number;
  readonly fallbackTtl: number | undefined;
  readonly createTable: boolean;
  readonly pruneInterval: number | false;
  readonly pruneBatch: number;
}

const KNOWN = ['pool', 'table', 'schema', 'timeout', 'fallbackTtl', 'createTable', 'pruneInterval', 'pruneBatch'];
// setTimeout/setInterval fire at once for larger delays.
const MAX_TIMER_DELAY = 2_147_483_647;
const MAX_PRUNE_BATCH = 100_000;

const isPositive = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0;

/** Checks every option at construction, so a typo or a bad value never surfaces at request time. */
export function resolvePostgresStoreOptions(options: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw new PostgresStoreOptionsError('options are required: new PostgresStore({ pool }).');
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN.includes(key));
  if (unknown.length > 0) {
    throw new PostgresStoreOptionsError(`unknown option(s) ${unknown.map((k) => `\`${k}\``).join(', ')}; known: ${KNOWN.join(', ')}.`);
  }
  const { pool, table = 'sessions', schema, timeout = 1000, fallbackTtl } = options;
  const { createTable = false, pruneInterval = 60_000, pruneBatch = 500 } = options;

  // Duck-typed so that checking the pool never loads pg.
  const candidate = pool as unknown as Record<string, unknown> | null | undefined;
  const isPool = candidate !== null && typeof candidate === 'object' && typeof candidate.connect === 'function' && typeof candidate.query === 'function';
  if (!isPool) {
    throw new PostgresStoreOptionsError('`pool` is required: a node-postgres Pool (new Pool({ ... }) from "pg").');
  }
  identifier('table', table, MAX_TABLE_NAME_LENGTH);
  if (schema !== undefined) identifier('schema', schema, MAX_SCHEMA_NAME_LENGTH);
  if (!isPositive(timeout) || timeout > MAX_TIMER_DELAY) {
    throw new PostgresStoreOptionsError(
      `\`timeout\` must be a positive number of milliseconds up to ${MAX_TIMER_DELAY}, got ${String(timeout)}.`,
    );
  }
  if (fallbackTtl !== undefined && !isPositive(fallbackTtl)) {
    throw new PostgresStoreOptionsError(`\`fallbackTtl\` must be a positive number of seconds, got ${String(fallbackTtl)}.`);
  }
  if (typeof createTable !== 'boolean') {
    throw new PostgresStoreOptionsError(`\`createTable\` must be a boolean, got ${String(createTable)}.`);
  }
  if (pruneInterval !== false && (!isPositive(pruneInterval) || pruneInterval > MAX_TIMER_DELAY)) {
    throw new PostgresStoreOptionsError(
      `\`pruneInterval\` must be false or a positive number of milliseconds up to ${MAX_TIMER_DELAY}, got ${String(pruneInterval)}.`,
    );
  }
  if (!Number.isInteger(pruneBatch) || pruneBatch < 1 || pruneBatch > MAX_PRUNE_BATCH) {
    throw new PostgresStoreOptionsError(`\`pruneBatch\` must be an integer from 1 to ${MAX_PRUNE_BATCH}, got ${String(pruneBatch)}.`);
  }
  return { pool, table, schema, timeout, fallbackTtl, createTable, pruneInterval, pruneBatch };
}

function identifier(option: string, value: unknown, maxLength: number): void {
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value) || value.length > maxLength) {
    throw new PostgresStoreOptionsError(
      `\`${option}\` must be a lower-case SQL identifier (a-z, 0-9, _, not starting with a digit) of at most ${maxLength} characters, ` +
        `got ${JSON.stringify(value)}.`,
    );
  }
}
