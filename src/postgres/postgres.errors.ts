export type PostgresStoreOperation = 'read' | 'write' | 'update' | 'remove' | 'touch' | 'lock' | 'index' | 'init' | 'prune';

/** A `PostgresStore` option is invalid. Thrown by the constructor, never at request time. */
export class PostgresStoreOptionsError extends TypeError {
  override readonly name = 'PostgresStoreOptionsError';
  constructor(message: string) {
    super(`PostgresStore: ${message}`);
  }
}

/** A statement (with the pool checkout before it) did not complete within the store's `timeout`. */
export class PostgresStoreTimeoutError extends Error {
  override readonly name = 'PostgresStoreTimeoutError';
  constructor(
    readonly operation: PostgresStoreOperation,
    readonly timeout: number,
  ) {
    super(
      `PostgresStore: ${operation} did not complete within ${timeout} ms ` +
        '(PostgreSQL unreachable or not answering, or no pooled connection free).',
    );
  }
}

/** The store's tables are missing and `createTable` is off. */
export class PostgresStoreSchemaError extends Error {
  override readonly name = 'PostgresStoreSchemaError';
  constructor(readonly missing: readonly string[]) {
    super(
      `PostgresStore: missing table(s) ${missing.join(', ')}. Create them with the SQL of ` +
        'PostgresStore.schemaSql() in a migration, or pass createTable: true.',
    );
  }
}
