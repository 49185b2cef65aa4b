/**
 * Helpers for the PostgresStore e2e suites (not a spec file): a database per suite (the shared
 * test database, or a private server), pools for the app and for inspection, statement
 * recording, and the small timing utilities the scenarios share.
 */
import type pg from 'pg';
import { PostgresStore, type PostgresStoreOptions } from '../../../src/postgres/index.js';
import { dropStoreTables, openTestDatabase, recordStatements, sleep, testPool, type TestDatabase } from '../../support/postgres-server.js';

export { describePostgres, ownName } from '../../support/postgres-server.js';
export { sleep };

export interface PostgresFixture {
  /** The app's pool (statements on it are recorded). */
  readonly pool: pg.Pool;
  /** A second pool on the same database: another app instance, or inspection. */
  readonly inspect: pg.Pool;
  /** Statements the app's pool ran since the last call. */
  take(): string[];
  /** A store on `table` (its tables are dropped first by `open`, and again by `stop`). */
  store(table: string, options?: Omit<PostgresStoreOptions, 'pool' | 'table'>, pool?: pg.Pool): PostgresStore;
  /** One row of an inspection query. */
  one<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T | undefined>;
  stop(): Promise<void>;
}

/** Opens the test database, drops `tables` (and their side tables) for a clean start. */
export async function openPostgres(tables: readonly string[]): Promise<PostgresFixture> {
  const db: TestDatabase = await openTestDatabase();
  const pool = testPool(db.config);
  const inspect = testPool(db.config);
  for (const table of tables) await dropStoreTables(inspect, table);
  const statements = recordStatements(pool);
  const stores: PostgresStore[] = [];
  return {
    pool,
    inspect,
    take: () => statements.take(),
    store(table, options = {}, on = pool) {
      const store = new PostgresStore({ pool: on, table, createTable: true, pruneInterval: false, ...options });
      stores.push(store);
      return store;
    },
    async one<T>(sql: string, values: unknown[] = []) {
      return (await inspect.query(sql, values)).rows[0] as T | undefined;
    },
    async stop() {
      for (const store of stores) await store.close();
      for (const table of tables) await dropStoreTables(inspect, table).catch(() => undefined);
      await pool.end();
      await inspect.end();
      await db.stop();
    },
  };
}

/** A one-word summary of a statement, for reports: `SELECT`, `INSERT ... ON CONFLICT`, `UPDATE (merge)`... */
export function kindOf(statement: string): string {
  if (statement.startsWith('SELECT blob')) return 'SELECT';
  if (statement.startsWith('SELECT user_id')) return 'SELECT (index)';
  if (statement.startsWith('SELECT u.handle')) return 'SELECT (list)';
  if (statement.includes('ON CONFLICT')) return statement.includes('_locks') ? 'INSERT lock' : 'INSERT ... ON CONFLICT';
  if (statement.startsWith('UPDATE') && statement.includes('(fields - $2::text[])')) return 'UPDATE (merge)';
  if (statement.startsWith('UPDATE') && /SET expires_at =/.test(statement)) return 'UPDATE (touch)';
  if (statement.startsWith('DELETE')) return statement.includes('_locks') ? 'DELETE lock' : 'DELETE';
  return statement.split(' ')[0]!;
}

// The same gate the Redis concurrency suites use (shared fixtures take it).
export { Gate } from '../concurrency/support.js';

/** Milliseconds since `start` (performance.now()), rounded. */
export const since = (start: number) => Math.round(performance.now() - start);
