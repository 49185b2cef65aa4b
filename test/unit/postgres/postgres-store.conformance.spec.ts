/**
 * PostgresStore passes the store conformance suite in every lifetime mode the module has (fixed,
 * rolling, lifetime 0), and with its own `fallbackTtl` for browser-session cookies.
 */
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type pg from 'pg';
import { PostgresStore } from '../../../src/postgres/index.js';
import { storeConformanceCases } from '../../../src/testing/index.js';
import { LIFETIME_MODES } from '../../support/conformance-modes.js';
import { describePostgres, dropStoreTables, openTestDatabase, ownName, testPool, type TestDatabase } from '../../support/postgres-server.js';

const TABLE = ownName('sk_conformance');

describePostgres('PostgresStore conformance', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: PostgresStore;
  let ownFallback: PostgresStore;

  beforeAll(async () => {
    db = await openTestDatabase();
    pool = testPool(db.config);
    await dropStoreTables(pool, TABLE);
    store = new PostgresStore({ pool, table: TABLE, createTable: true, pruneInterval: false });
    ownFallback = new PostgresStore({ pool, table: TABLE, createTable: true, pruneInterval: false, fallbackTtl: 7200 });
    await store.init();
  }, 60000);

  afterAll(async () => {
    await store?.close();
    await ownFallback?.close();
    await dropStoreTables(pool, TABLE).catch(() => undefined);
    await pool?.end();
    await db?.stop();
  });

  describe.each(LIFETIME_MODES)('passes the store conformance suite (%s)', (_mode, options) => {
    for (const c of storeConformanceCases(() => store, { ...options, idPrefix: 'pg-conformance-' })) it(c.name, c.run);
  });

  // The module then passes the store's fallbackTtl as the TTL of browser-session records.
  describe('passes the store conformance suite (lifetime 0, the store its own fallbackTtl)', () => {
    for (const c of storeConformanceCases(() => ownFallback, { lifetime: 0, browserSessionTtl: 7200, idPrefix: 'pg-conformance-own-' })) it(c.name, c.run);
  });
});
