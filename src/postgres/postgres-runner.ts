// Type-only: pg is an optional peer dependency, and this module must load without it.
import type { Pool, PoolClient, QueryConfig } from 'pg';
// The Redis store's deadline timer: plain code with no ioredis in it.
import { DeadlineQueue } from '../redis/deadline-queue.js';
import { PostgresStoreTimeoutError, type PostgresStoreOperation } from './postgres.errors.js';

/** Column values as PostgreSQL's text output, whatever parsers the app registered globally. */
export type RawRow = Record<string, string | null>;

export interface RawResult {
  readonly rows: RawRow[];
  readonly rowCount: number;
}

// Every value comes back as the server's text (bytea as `\x` hex, jsonb as JSON text): the store
// decodes what it needs itself, so an app that changed pg's global type parsers (for jsonb,
// int8, timestamps...) changes nothing here.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as QueryConfig['types'];

const ignore = () => undefined;

/**
 * Runs one statement on a client checked out of the app's pool, within a time budget that covers
 * the checkout and the answer. pg itself waits without limit by default (for a free client, a
 * connection, an answer), so without this a frozen server or an exhausted pool would hold a
 * request for as long as it lasts.
 *
 * On the deadline the caller gets a `PostgresStoreTimeoutError` at once, and:
 * - a client still waiting for its answer is dropped (`release(error)`: pg ends a client with an
 *   active query by destroying its socket), never returned to the pool, where the next caller
 *   would wait behind an answer that may never come; the pool opens a new connection when needed;
 * - a checkout still waiting for a client is handed straight back to the pool when it arrives.
 *
 * A statement that timed out may still run on the server once it answers again (it was sent).
 * That is harmless for this store: updates and touches never recreate a removed record, removes
 * are idempotent, and a late lock expires on its own.
 */
export class PostgresRunner {
  private readonly deadlines: DeadlineQueue;
  /** Runs before each statement, inside its budget (the lazy table creation); unset once done. */
  before: (() => Promise<void>) | undefined;

  constructor(
    private readonly pool: Pool,
    readonly timeout: number,
  ) {
    this.deadlines = new DeadlineQueue(timeout);
  }

  run(operation: PostgresStoreOperation, text: string, values?: unknown[]): Promise<RawResult> {
    return this.execute(operation, text, values, this.before);
  }

  /** Without `before`: for the statement that `before` itself runs. */
  runFirst(operation: PostgresStoreOperation, text: string, values?: unknown[]): Promise<RawResult> {
    return this.execute(operation, text, values, undefined);
  }

  private execute(
    operation: PostgresStoreOperation,
    text: string,
    values: unknown[] | undefined,
    before: (() => Promise<void>) | undefined,
  ): Promise<RawResult> {
    return new Promise<RawResult>((resolve, reject) => {
      let settled = false;
      let held: PoolClient | undefined;
      // A checked-out client has no error listener of the pool's: without one, a socket error
      // while the statement runs would be thrown. The statement itself rejects with it.
      const giveBack = (client: PoolClient, error?: Error) => {
        client.removeListener('error', ignore);
        client.release(error);
      };
      const deadline = this.deadlines.add(() => {
        settled = true;
        const error = new PostgresStoreTimeoutError(operation, this.timeout);
        reject(error);
        if (held) {
          const client = held;
          held = undefined;
          giveBack(client, error);
        }
      });
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        this.deadlines.settle(deadline);
        reject(error);
      };

      const checkout = before ? before().then(() => (settled ? undefined : this.pool.connect())) : this.pool.connect();
      checkout.then((client) => {
        if (!client) return;
        // The caller gave up while waiting for a client: it goes straight back, healthy.
        if (settled) return client.release();
        held = client;
        client.on('error', ignore);
        let query: Promise<{ rows: RawRow[]; rowCount: number | null }>;
        try {
          query = client.query({ text, values, types: RAW_TEXT });
        } catch (error) {
          held = undefined;
          giveBack(client, error as Error);
          return fail(error);
        }
        query.then(
          (result) => {
            if (held !== client) return; // dropped at the deadline
            held = undefined;
            giveBack(client);
            settled = true;
            this.deadlines.settle(deadline);
            resolve({ rows: result.rows, rowCount: result.rowCount ?? 0 });
          },
          (error: Error) => {
            if (held !== client) return;
            held = undefined;
            // As pool.query() does: a client that failed a statement is not reused.
            giveBack(client, error);
            fail(error);
          },
        );
      }, fail);
    });
  }
}
