/**
 * PostgresStore against a real PostgreSQL (the shared test database, or a private server when
 * it is not there): each statement's behaviour, the per-key merge, no resurrection, TTLs and
 * expiry, locks, the per-user index, pruning (batches, through the expires_at index), setup and
 * option validation. Tables of this file are named `sk_unit_<pid>*`, so files and runs never collide.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PostgresStore, PostgresStoreOptionsError, PostgresStoreSchemaError } from '../../../src/postgres/index.js';
import { postgresStatements } from '../../../src/postgres/postgres-sql.js';
import { decodeFieldRecord, encodeFieldRecord } from '../../../src/records/field-record.js';
import type { SessionFieldPatch, UserSessionEntry } from '../../../src/interfaces/session-store.interface.js';
import {
  describePostgres,
  dropStoreTables,
  openTestDatabase,
  ownName,
  recordStatements,
  sleep,
  testPool,
  type TestDatabase,
} from '../../support/postgres-server.js';

const TABLE = ownName('sk_unit');
const SCHEMA = ownName('sk_unit_schema');
const bytes = (text: string) => Buffer.from(text, 'utf8');
const fields = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, bytes(v)]));
const patchOf = (set: Record<string, string>, unset: string[] = []): SessionFieldPatch => ({ set: fields(set), unset });
const asText = (map: ReadonlyMap<string, Uint8Array> | null) =>
  map === null ? null : Object.fromEntries([...map].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]));
const newId = () => `id-${randomBytes(9).toString('base64url')}`;

describe('PostgresStore options (validated at construction, no database needed)', () => {
  const pool = { connect() {}, query() {} } as unknown as pg.Pool;
  const make = (options: Record<string, unknown>) => () => new PostgresStore({ pool, pruneInterval: false, ...options } as never);

  it('a valid configuration constructs', () => {
    expect(make({ table: 'app_sessions', schema: 'auth', timeout: 250, fallbackTtl: 0.5, createTable: true, pruneBatch: 10 })).not.toThrow();
  });

  it.each([
    ['no options', () => new PostgresStore(undefined as never), /options are required/],
    ['no pool', () => new PostgresStore({} as never), /`pool` is required/],
    ['a pool that is not one', make({ pool: { query() {} } }), /`pool` is required/],
    ['an unknown option (a typo)', make({ fallbackTTL: 60 }), /unknown option\(s\) `fallbackTTL`/],
    ['an upper-case table', make({ table: 'Sessions' }), /`table` must be a lower-case SQL identifier/],
    ['a table with a quote', make({ table: 'x"; DROP TABLE users; --' }), /`table` must be/],
    ['a table with a dot', make({ table: 'public.sessions' }), /`table` must be/],
    ['a table starting with a digit', make({ table: '1sessions' }), /`table` must be/],
    ['an empty table', make({ table: '' }), /`table` must be/],
    ['a table too long for its index names', make({ table: 'x'.repeat(43) }), /at most 42 characters/],
    ['a bad schema', make({ schema: 'my-schema' }), /`schema` must be/],
    ['timeout 0', make({ timeout: 0 }), /`timeout` must be a positive number of milliseconds/],
    ['timeout NaN', make({ timeout: Number.NaN }), /`timeout`/],
    ['timeout as a string', make({ timeout: '1000' }), /`timeout`/],
    ['timeout beyond the timer range', make({ timeout: 2 ** 31 }), /`timeout`/],
    ['fallbackTtl 0', make({ fallbackTtl: 0 }), /`fallbackTtl` must be a positive number of seconds/],
    ['fallbackTtl Infinity', make({ fallbackTtl: Number.POSITIVE_INFINITY }), /`fallbackTtl`/],
    ['createTable "yes"', make({ createTable: 'yes' }), /`createTable` must be a boolean/],
    ['pruneInterval true', make({ pruneInterval: true }), /`pruneInterval` must be false or a positive number/],
    ['pruneInterval 0', make({ pruneInterval: 0 }), /`pruneInterval`/],
    ['pruneBatch 0', make({ pruneBatch: 0 }), /`pruneBatch` must be an integer from 1 to 100000/],
    ['pruneBatch 2.5', make({ pruneBatch: 2.5 }), /`pruneBatch`/],
  ])('rejects %s with a PostgresStoreOptionsError naming the option', (_name, construct, message) => {
    expect(construct).toThrow(PostgresStoreOptionsError);
    expect(construct).toThrow(message);
    try {
      construct();
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).name).toBe('PostgresStoreOptionsError');
      expect((error as Error).message).toMatch(/^PostgresStore: /);
    }
  });

  it('schemaSql() gives the DDL for migrations: quoted names, IF NOT EXISTS, the three tables and four indexes', () => {
    const sql = PostgresStore.schemaSql();
    expect(sql.match(/CREATE (UNLOGGED )?TABLE IF NOT EXISTS "sessions(_users|_locks)?"/g)).toHaveLength(3);
    expect(sql.match(/CREATE INDEX IF NOT EXISTS "sessions_[a-z_]+_idx"/g)).toHaveLength(4);
    expect(sql).toContain('CREATE UNLOGGED TABLE IF NOT EXISTS "sessions_locks"');
    expect(PostgresStore.schemaSql({ table: 'web', schema: 'auth' })).toContain('CREATE TABLE IF NOT EXISTS "auth"."web" (');
    expect(() => PostgresStore.schemaSql({ table: 'Web' })).toThrow(PostgresStoreOptionsError);
  });

  it("the README's schema for your own migrations is exactly schemaSql()", () => {
    const readme = readFileSync(path.join(process.cwd(), 'README.md'), 'utf8');
    expect(readme).toContain('```sql\n' + PostgresStore.schemaSql() + '```');
  });

  it('imports pg for types only (apps without the subpath never load it)', () => {
    const dir = path.join(process.cwd(), 'src/postgres');
    for (const file of readdirSync(dir)) {
      const code = readFileSync(path.join(dir, file), 'utf8');
      expect({ file, runtime: /^\s*import\s+(?!type\b)[^;]*from\s+'pg'/m.test(code) }).toEqual({ file, runtime: false });
    }
  });
});

describePostgres('PostgresStore on PostgreSQL', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  /** For looking at the tables: never the store's pool, so statement counts stay the store's. */
  let inspect: pg.Pool;
  let store: PostgresStore;
  let statements: { take(): string[] };
  const stores: PostgresStore[] = [];
  const tables = [TABLE, `${TABLE}_init`, `${TABLE}_race`, `${TABLE}_prune`, `${TABLE}_timer`, `${TABLE}_explain`, `${TABLE}_manual`, `${TABLE}_ttl`];

  const track = (s: PostgresStore) => (stores.push(s), s);
  const one = async <T>(sql: string, values: unknown[] = []) => (await inspect.query(sql, values)).rows[0] as T;
  /** Seconds until the row expires, as PostgreSQL sees it (null: no row). */
  const secondsLeft = async (id: string, table = TABLE) =>
    ((await inspect.query(`SELECT extract(epoch from expires_at - now())::float8 AS s FROM "${table}" WHERE id = $1`, [id])).rows[0]?.s as
      | number
      | undefined) ?? null;
  const rowCount = async (table: string) => Number((await one<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)).n);

  beforeAll(async () => {
    db = await openTestDatabase();
    pool = testPool(db.config);
    inspect = testPool(db.config);
    for (const table of tables) await dropStoreTables(inspect, table);
    await inspect.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    statements = recordStatements(pool);
    store = track(new PostgresStore({ pool, table: TABLE, createTable: true, pruneInterval: false }));
    await store.init();
  }, 60000);

  beforeEach(() => void statements.take());

  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const table of tables) await dropStoreTables(inspect, table).catch(() => undefined);
    await inspect?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await pool?.end();
    await inspect?.end();
    await db?.stop();
  });

  describe('setup', () => {
    it('createTable: the first calls create the tables and indexes once, concurrently, in one shared run', async () => {
      const fresh = track(new PostgresStore({ pool, table: `${TABLE}_init`, createTable: true, pruneInterval: false }));
      expect(fresh.init()).toBe(fresh.init());
      const ids = Array.from({ length: 20 }, newId);
      await Promise.all(ids.map((id) => fresh.write(id, bytes(id), 60, 60)));
      for (const id of ids) expect((await fresh.read(id))?.toString()).toBe(id);
      const setups = statements.take().filter((s) => s.includes('CREATE TABLE'));
      expect(setups).toHaveLength(1);
      const indexes = (await inspect.query(`SELECT indexname FROM pg_indexes WHERE tablename LIKE '${TABLE}_init%' ORDER BY 1`)).rows.map((r) => r.indexname);
      expect(indexes).toEqual([
        `${TABLE}_init_expires_at_idx`,
        `${TABLE}_init_locks_expires_at_idx`,
        `${TABLE}_init_locks_pkey`,
        `${TABLE}_init_pkey`,
        `${TABLE}_init_users_expires_at_idx`,
        `${TABLE}_init_users_pkey`,
        `${TABLE}_init_users_user_id_idx`,
      ]);
      // Locks are not worth WAL: the table is unlogged.
      expect(await one(`SELECT relpersistence FROM pg_class WHERE relname = '${TABLE}_init_locks'`)).toEqual({ relpersistence: 'u' });
      // Once created, a statement is just itself.
      await fresh.read(ids[0]!);
      expect(statements.take()).toEqual([expect.stringMatching(/^SELECT blob/)]);
    });

    it('two stores (two app instances) creating the same tables at the same moment both succeed', async () => {
      const a = track(new PostgresStore({ pool, table: `${TABLE}_race`, createTable: true, pruneInterval: false }));
      const b = track(new PostgresStore({ pool: inspect, table: `${TABLE}_race`, createTable: true, pruneInterval: false }));
      await Promise.all([a.init(), b.init(), a.write('x', bytes('a'), 0, 60), b.write('y', bytes('b'), 0, 60)]);
      expect((await b.read('x'))?.toString()).toBe('a');
    });

    it('without createTable, init() names the missing tables, and a statement fails (no table is created behind your back)', async () => {
      const missing = track(new PostgresStore({ pool, table: 'sk_unit_nowhere', pruneInterval: false }));
      await expect(missing.init()).rejects.toThrow(PostgresStoreSchemaError);
      await expect(missing.init()).rejects.toThrow(/missing table\(s\) "sk_unit_nowhere", "sk_unit_nowhere_users", "sk_unit_nowhere_locks"/);
      await expect(missing.read('x')).rejects.toMatchObject({ code: '42P01' });
      expect(await one(`SELECT to_regclass('sk_unit_nowhere') AS t`)).toEqual({ t: null });
    });

    it('the schemaSql() DDL applied by your own migration is what the store needs; a schema is honoured', async () => {
      await inspect.query(`CREATE SCHEMA ${SCHEMA}`);
      await inspect.query(PostgresStore.schemaSql({ table: 'sk_unit_manual', schema: SCHEMA }));
      const manual = track(new PostgresStore({ pool, table: 'sk_unit_manual', schema: SCHEMA, pruneInterval: false }));
      await expect(manual.init()).resolves.toBeUndefined();
      await manual.write('m', bytes('in a schema'), 60, 60);
      expect(await one(`SELECT convert_from(blob, 'UTF8') AS v FROM ${SCHEMA}.sk_unit_manual WHERE id = 'm'`)).toEqual({ v: 'in a schema' });
      expect(await one(`SELECT to_regclass('public.sk_unit_manual') AS t`)).toEqual({ t: null });
    });
  });

  describe('read / write / update / remove / touch: one statement each', () => {
    it('write then read: the same bytes, one INSERT ... ON CONFLICT DO UPDATE and one SELECT', async () => {
      const id = newId();
      const data = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      expect(await store.write(id, data, 3600, 60)).toBe(id);
      expect(Buffer.compare((await store.read(id))!, Buffer.from(data))).toBe(0);
      expect(statements.take()).toEqual([expect.stringMatching(/^INSERT INTO "sk_unit_\d+" .* ON CONFLICT \(id\) DO UPDATE/), expect.stringMatching(/^SELECT blob/)]);
    });

    it('an unknown ID reads null; removing it is no error', async () => {
      expect(await store.read(newId())).toBeNull();
      expect(await store.readFields(newId())).toBeNull();
      await expect(store.remove(newId())).resolves.toBeUndefined();
    });

    it('IDs are parameters, never SQL', async () => {
      const id = `'); DROP TABLE "${TABLE}"; --`;
      await store.write(id, bytes('odd id'), 60, 60);
      expect((await store.read(id))?.toString()).toBe('odd id');
      await store.remove(id);
      expect(await store.read(id)).toBeNull();
    });

    it('write replaces a record, whichever form it had (blob or fields)', async () => {
      const id = newId();
      await store.patch(id, patchOf({ m: 'meta', 'd:a': '1' }), 60, 'create');
      await store.write(id, bytes('blob now'), 60, 60);
      expect((await store.read(id))?.toString()).toBe('blob now');
      expect(await one(`SELECT fields FROM "${TABLE}" WHERE id = $1`, [id])).toEqual({ fields: null });
    });

    it('update replaces a live record (one UPDATE) and returns null for a removed one, which stays removed', async () => {
      const id = newId();
      await store.write(id, bytes('before'), 60, 60);
      statements.take();
      expect(await store.update(id, bytes('after'), 60, 60)).toBe(id);
      expect(statements.take()).toEqual([expect.stringMatching(/^UPDATE "sk_unit_\d+" SET fields = NULL, blob = \$2::bytea.* WHERE id = \$1 AND expires_at > now\(\)$/)]);
      expect((await store.read(id))?.toString()).toBe('after');
      await store.remove(id);
      expect(await store.update(id, bytes('resurrected?'), 60, 60)).toBeNull();
      expect(await store.read(id)).toBeNull();
      expect(await secondsLeft(id)).toBeNull();
    });

    it('an expired row reads null, is not updated or touched back to life, and stays until pruned', async () => {
      const id = newId();
      await store.write(id, bytes('short'), 60, 0.5);
      expect((await store.read(id))?.toString()).toBe('short');
      await sleep(600);
      expect(await store.read(id)).toBeNull();
      expect(await store.update(id, bytes('late'), 60, 60)).toBeNull();
      expect(await store.touch(id, 60)).toBe(false);
      expect(await store.patch(id, patchOf({ x: '1' }), 60, 'update')).toBe(false);
      // The row is still there, expired: reads ignore it; the pruner deletes it.
      expect(await secondsLeft(id)).toBeLessThan(0);
      expect(await store.read(id)).toBeNull();
    });

    it('touch moves the expiry of a live row (one UPDATE, true) and never creates a missing one (false)', async () => {
      const id = newId();
      await store.write(id, bytes('rolling'), 60, 1);
      expect(await secondsLeft(id)).toBeLessThanOrEqual(1);
      statements.take();
      expect(await store.touch(id, 120)).toBe(true);
      expect(statements.take()).toEqual([expect.stringMatching(/^UPDATE "sk_unit_\d+" SET expires_at = .* WHERE id = \$1 AND expires_at > now\(\)$/)]);
      expect(await secondsLeft(id)).toBeGreaterThan(119);
      expect((await store.read(id))?.toString()).toBe('rolling');
      const missing = newId();
      expect(await store.touch(missing, 120)).toBe(false);
      expect(await secondsLeft(missing)).toBeNull();
    });
  });

  describe('TTLs: seconds with millisecond precision', () => {
    it('a fractional TTL is kept to the millisecond, and the row expires on time', async () => {
      const id = newId();
      await store.write(id, bytes('x'), 60, 1.25);
      const left = (await secondsLeft(id))!;
      expect(left).toBeGreaterThan(1);
      expect(left).toBeLessThanOrEqual(1.25);
      // (Neither rounded down to 1 s nor up to 2 s.)
      const tiny = newId();
      await store.write(tiny, bytes('y'), 60, 0.4);
      expect(await store.read(tiny)).not.toBeNull();
      await sleep(500);
      expect(await store.read(tiny)).toBeNull();
    });

    it('ttl <= 0 means the fallback: the store fallbackTtl, else 30 days', async () => {
      const id = newId();
      await store.write(id, bytes('x'), 3600, 0);
      expect(await secondsLeft(id)).toBeGreaterThan(2_592_000 - 5);
      await store.update(id, bytes('x'), 3600, -3);
      expect(await secondsLeft(id)).toBeGreaterThan(2_592_000 - 5);
      const own = track(new PostgresStore({ pool, table: TABLE, fallbackTtl: 120, pruneInterval: false }));
      expect(own.fallbackTtl).toBe(120);
      expect(store.fallbackTtl).toBeUndefined();
      await own.write(id, bytes('x'), 3600, 0);
      expect(await secondsLeft(id)).toBeGreaterThan(119);
      expect(await secondsLeft(id)).toBeLessThanOrEqual(120);
      await own.touch(id, 0);
      expect(await secondsLeft(id)).toBeGreaterThan(119);
      await own.patch(id, patchOf({ m: 'x' }), 0, 'create');
      expect(await secondsLeft(id)).toBeGreaterThan(119);
    });

    it('lifetime 0 (browser-session cookie): the module passes the store fallbackTtl; a direct longer ttl is capped by it', async () => {
      const own = track(new PostgresStore({ pool, table: TABLE, fallbackTtl: 120, pruneInterval: false }));
      const id = newId();
      await own.write(id, bytes('x'), 0, 86_400);
      expect(await secondsLeft(id)).toBeLessThanOrEqual(120);
      await own.write(id, bytes('x'), 0, 30);
      expect(await secondsLeft(id)).toBeLessThanOrEqual(30);
      await own.update(id, bytes('y'), 0, 0);
      expect(await secondsLeft(id)).toBeGreaterThan(119);
    });
  });

  describe('per-key records (readFields / patch): the merge', () => {
    it('create writes the fields (one INSERT ... ON CONFLICT); readFields and read give them back', async () => {
      const id = newId();
      expect(await store.patch(id, patchOf({ m: 'meta', 'd:a': 'A', 'd:b': 'B' }), 60, 'create')).toBe(true);
      expect(statements.take()).toEqual([expect.stringMatching(/^INSERT INTO "sk_unit_\d+" .* VALUES \(\$1, \$2::jsonb, NULL, .*ON CONFLICT \(id\) DO UPDATE/)]);
      expect(asText(await store.readFields(id))).toEqual({ m: 'meta', 'd:a': 'A', 'd:b': 'B' });
      // Plain read() gives the record's single-value encoding, as RedisStore's GET does.
      expect(asText(decodeFieldRecord(await store.read(id)))).toEqual({ m: 'meta', 'd:a': 'A', 'd:b': 'B' });
      // Stored as base64 text inside jsonb.
      const raw = await one<{ fields: Record<string, string> }>(`SELECT fields FROM "${TABLE}" WHERE id = $1`, [id]);
      expect(raw.fields['d:a']).toBe(Buffer.from('A').toString('base64'));
    });

    it('update merges in one UPDATE: changed fields set, removed ones dropped, the others untouched', async () => {
      const id = newId();
      await store.patch(id, patchOf({ m: 'meta', 'd:a': 'A', 'd:b': 'B', 'd:c': 'C' }), 60, 'create');
      statements.take();
      expect(await store.patch(id, patchOf({ 'd:b': 'B2', 'd:new': 'N' }, ['d:c']), 60, 'update')).toBe(true);
      const sent = statements.take();
      expect(sent).toEqual([
        expect.stringMatching(
          /^UPDATE "sk_unit_\d+" SET fields = \(fields - \$2::text\[\]\) \|\| \$3::jsonb, expires_at = .* WHERE id = \$1 AND expires_at > now\(\) AND fields IS NOT NULL$/,
        ),
      ]);
      expect(asText(await store.readFields(id))).toEqual({ m: 'meta', 'd:a': 'A', 'd:b': 'B2', 'd:new': 'N' });
    });

    it('create replaces the whole record; a field both set and unset ends up absent (create and update alike)', async () => {
      const id = newId();
      await store.patch(id, patchOf({ m: 'old', 'd:gone': 'G' }), 60, 'create');
      await store.patch(id, patchOf({ m: 'new', 'd:x': 'X' }, ['d:x']), 60, 'create');
      expect(asText(await store.readFields(id))).toEqual({ m: 'new' });
      await store.patch(id, patchOf({ 'd:y': 'Y', 'd:z': 'Z' }, ['d:y']), 60, 'update');
      expect(asText(await store.readFields(id))).toEqual({ m: 'new', 'd:z': 'Z' });
    });

    it('update never recreates a removed record (a logout is never undone)', async () => {
      const id = newId();
      await store.patch(id, patchOf({ m: 'meta', 'd:a': 'A' }), 60, 'create');
      await store.remove(id);
      expect(await store.patch(id, patchOf({ 'd:a': 'late' }), 60, 'update')).toBe(false);
      expect(await store.readFields(id)).toBeNull();
      expect(await secondsLeft(id)).toBeNull();
    });

    it('update of a blob record reports it gone and leaves it as it was', async () => {
      const id = newId();
      await store.write(id, bytes('a blob'), 60, 60);
      expect(await store.patch(id, patchOf({ m: 'x' }), 60, 'update')).toBe(false);
      expect((await store.read(id))?.toString()).toBe('a blob');
      expect(await store.readFields(id)).toBeNull();
    });

    it('readFields of a blob that holds a field record decodes it (one reader for either layout)', async () => {
      const id = newId();
      await store.write(id, encodeFieldRecord(fields({ m: 'via write' })), 60, 60);
      expect(asText(await store.readFields(id))).toEqual({ m: 'via write' });
    });

    it('50 concurrent patches of different fields of one record keep all 50', async () => {
      const id = newId();
      await store.patch(id, patchOf({ m: 'meta' }), 60, 'create');
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.patch(id, patchOf({ [`d:k${i}`]: `v${i}` }), 60, 'update')));
      const got = asText(await store.readFields(id))!;
      expect(Object.keys(got)).toHaveLength(51);
      for (let i = 0; i < 50; i++) expect(got[`d:k${i}`]).toBe(`v${i}`);
    });

    it('binary field values and field names that need escaping survive', async () => {
      const id = newId();
      const value = randomBytes(4096);
      await store.patch(id, { set: new Map([['d:"quoted" \\ ü', value]]), unset: [] }, 60, 'create');
      const got = await store.readFields(id);
      expect(Buffer.compare(Buffer.from(got!.get('d:"quoted" \\ ü')!), value)).toBe(0);
    });
  });

  describe('locks (@SessionLock across processes)', () => {
    it('one holder at a time; released only by its owner; no pooled connection held meanwhile', async () => {
      const id = newId();
      expect(await store.acquireLock(id, 'owner', 5000)).toBe(true);
      expect(statements.take()).toEqual([
        expect.stringMatching(/^INSERT INTO "sk_unit_\d+_locks" AS l .* ON CONFLICT \(id\) DO UPDATE .* WHERE l\.expires_at <= clock_timestamp\(\)$/),
      ]);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      expect(await store.acquireLock(id, 'other', 5000)).toBe(false);
      expect(await store.acquireLock(id, 'owner', 5000)).toBe(false); // not re-entrant
      await store.releaseLock(id, 'other');
      expect(await store.acquireLock(id, 'other', 5000)).toBe(false);
      await store.releaseLock(id, 'owner');
      expect(await store.acquireLock(id, 'other', 5000)).toBe(true);
      await store.releaseLock(id, 'other');
    });

    it("a crashed holder's lock expires after its ttl (ms), and its late release leaves the successor's lock", async () => {
      const id = newId();
      expect(await store.acquireLock(id, 'crashed', 400)).toBe(true);
      expect(await store.acquireLock(id, 'next', 5000)).toBe(false);
      await sleep(450);
      expect(await store.acquireLock(id, 'next', 5000)).toBe(true);
      await store.releaseLock(id, 'crashed');
      expect(await one(`SELECT token FROM "${TABLE}_locks" WHERE id = $1`, [id])).toEqual({ token: 'next' });
      await store.releaseLock(id, 'next');
      expect(await one(`SELECT count(*)::int AS n FROM "${TABLE}_locks" WHERE id = $1`, [id])).toEqual({ n: 0 });
    });

    it('20 concurrent takers: exactly one wins', async () => {
      const id = newId();
      const won = await Promise.all(Array.from({ length: 20 }, (_, i) => store.acquireLock(id, `t${i}`, 5000)));
      expect(won.filter(Boolean)).toHaveLength(1);
      await store.releaseLock(id, `t${won.indexOf(true)}`);
    });
  });

  describe('per-user index', () => {
    const entry = (sessionId: string, at: number, extra: Partial<UserSessionEntry> = {}): UserSessionEntry => ({
      handle: `h-${sessionId}`,
      sessionId,
      created: at,
      lastSeen: at,
      expiresAt: at + 60_000,
      ...extra,
    });

    it('lists the live entries of a user, most recent activity first, with exact times; resolves and unindexes handles', async () => {
      const user = `user-${newId()}`;
      const now = Date.now();
      const ids = [newId(), newId(), newId()];
      for (const id of ids) await store.write(id, bytes('s'), 60, 60);
      await store.indexUserSession(user, entry(ids[0]!, now - 3000, { userAgent: 'Agent/A' }));
      await store.indexUserSession(user, entry(ids[1]!, now - 1000, { userAgent: 'Agent/B' }));
      await store.indexUserSession(user, entry(ids[2]!, now - 2000));
      await store.indexUserSession(`other-${user}`, entry(newId(), now));
      statements.take();
      const listed = await store.listUserSessions(user);
      expect(statements.take()).toHaveLength(1);
      expect(listed).toEqual([
        { ...entry(ids[1]!, now - 1000), userAgent: 'Agent/B' },
        entry(ids[2]!, now - 2000),
        { ...entry(ids[0]!, now - 3000), userAgent: 'Agent/A' },
      ]);
      expect(await store.resolveUserSession(`h-${ids[0]}`)).toEqual({ userId: user, sessionId: ids[0] });
      await store.unindexUserSession(user, `h-${ids[0]}`);
      expect(await store.resolveUserSession(`h-${ids[0]}`)).toBeNull();
      expect((await store.listUserSessions(user)).map((e) => e.sessionId)).toEqual([ids[1], ids[2]]);
      expect(await store.resolveUserSession('h-unknown')).toBeNull();
      // Re-indexing a handle updates its entry (lastSeen moves).
      await store.indexUserSession(user, entry(ids[2]!, now - 2000, { lastSeen: now }));
      expect((await store.listUserSessions(user))[0]).toMatchObject({ sessionId: ids[2], lastSeen: now });
    });

    it('leaves out entries past expiresAt, and entries whose session row is gone or expired', async () => {
      const user = `user-${newId()}`;
      const now = Date.now();
      const [live, removed, expiredEntry, expiredRow] = [newId(), newId(), newId(), newId()];
      for (const id of [live, removed, expiredEntry]) await store.write(id, bytes('s'), 60, 60);
      await store.write(expiredRow, bytes('s'), 60, 0.05);
      for (const id of [live, removed, expiredRow]) await store.indexUserSession(user, entry(id, now));
      await store.indexUserSession(user, entry(expiredEntry, now - 120_000));
      await store.remove(removed);
      await sleep(100);
      expect((await store.listUserSessions(user)).map((e) => e.sessionId)).toEqual([live]);
      expect(await store.resolveUserSession(`h-${expiredEntry}`)).toBeNull();
    });
  });

  describe('pruning', () => {
    /** Rows that expired a minute ago, straight into the tables (fast, and independent of the store). */
    async function plantExpired(table: string, n: number): Promise<void> {
      await inspect.query(
        `INSERT INTO "${table}" (id, blob, expires_at) SELECT 'old-' || g, '\\x00', now() - interval '1 minute' FROM generate_series(1, $1) g`,
        [n],
      );
      await inspect.query(
        `INSERT INTO "${table}_users" (handle, user_id, session_id, created, last_seen, expires_at) ` +
          `SELECT 'h-old-' || g, 'u', 'old-' || g, now(), now(), now() - interval '1 minute' FROM generate_series(1, $1) g`,
        [Math.ceil(n / 10)],
      );
      await inspect.query(
        `INSERT INTO "${table}_locks" (id, token, expires_at) SELECT 'old-' || g, 't', now() - interval '1 minute' FROM generate_series(1, $1) g`,
        [Math.ceil(n / 100)],
      );
    }

    it('prune() deletes every expired row in batches of pruneBatch (one short statement each) and keeps the live ones', async () => {
      const table = `${TABLE}_prune`;
      const pruning = track(new PostgresStore({ pool, table, createTable: true, pruneInterval: false, pruneBatch: 100 }));
      await pruning.init();
      await plantExpired(table, 1234);
      const live = [newId(), newId()];
      for (const id of live) await pruning.write(id, bytes('live'), 60, 60);
      await pruning.acquireLock(live[0]!, 'holder', 60_000);
      statements.take();
      expect(await pruning.prune()).toBe(1234 + 124 + 13);
      const sent = statements.take();
      const batches = (t: string) => sent.filter((s) => s.startsWith(`DELETE FROM "${t}" WHERE ctid = ANY`));
      // 12 full batches and a short one; then the index (124 rows: 1 full + short) and the locks (13 rows: short).
      expect(batches(table)).toHaveLength(13);
      expect(batches(`${table}_users`)).toHaveLength(2);
      expect(batches(`${table}_locks`)).toHaveLength(1);
      expect(sent).toHaveLength(16);
      expect(await rowCount(table)).toBe(2);
      expect(await rowCount(`${table}_users`)).toBe(0);
      expect(await rowCount(`${table}_locks`)).toBe(1);
      for (const id of live) expect((await pruning.read(id))?.toString()).toBe('live');
      expect(await pruning.prune()).toBe(0);
    });

    it('the timer prunes on its own (unref: it keeps no process alive); close() stops it; pruneInterval: false has none', async () => {
      const table = `${TABLE}_timer`;
      const timed = track(new PostgresStore({ pool, table, createTable: true, pruneInterval: 100, pruneBatch: 50 }));
      const manual = track(new PostgresStore({ pool, table, pruneInterval: false }));
      await timed.init();
      await plantExpired(table, 120);
      const start = performance.now();
      while ((await rowCount(table)) > 0) {
        expect(performance.now() - start).toBeLessThan(3000);
        await sleep(50);
      }
      await timed.close();
      await plantExpired(table, 10);
      await sleep(350);
      expect(await rowCount(table)).toBe(10); // neither the closed store nor the manual one pruned
      expect(await manual.prune()).toBe(10 + 1 + 1);
      expect(await timed.prune()).toBe(0); // a closed store still prunes when asked: only its timer is gone
    });

    it('prunes through the expires_at index, reads and writes through the primary key (EXPLAIN)', async () => {
      const table = `${TABLE}_explain`;
      const explained = track(new PostgresStore({ pool, table, createTable: true, pruneInterval: false }));
      await explained.init();
      await inspect.query(
        `INSERT INTO "${table}" (id, blob, expires_at) SELECT 'row-' || g, '\\x00', now() + (g - 2500) * interval '1 second' FROM generate_series(1, 20000) g`,
      );
      await inspect.query(
        `INSERT INTO "${table}_users" (handle, user_id, session_id, created, last_seen, expires_at) ` +
          `SELECT 'h-' || g, 'user-' || (g % 2000), 'row-' || g, now(), now(), now() + (g - 2500) * interval '1 second' FROM generate_series(1, 20000) g`,
      );
      await inspect.query(`ANALYZE "${table}"; ANALYZE "${table}_users"`);
      const sql = postgresStatements({ table });
      const plan = async (statement: string, values: unknown[]) => {
        const client = await inspect.connect();
        try {
          await client.query('BEGIN'); // EXPLAIN of a DELETE plans it only; the transaction is rolled back anyway
          const rows = (await client.query({ text: `EXPLAIN ${statement}`, values })).rows as { 'QUERY PLAN': string }[];
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }
      };
      const prune = await plan(sql.prune.sessions, [500]);
      expect(prune).toMatch(new RegExp(`Index (Only )?Scan using ${table}_expires_at_idx`));
      expect(prune).toMatch(/Tid Scan/);
      expect(prune).not.toMatch(/Seq Scan/);
      const users = await plan(sql.prune.users, [500]);
      expect(users).toMatch(new RegExp(`Index (Only )?Scan using ${table}_users_expires_at_idx`));
      expect(users).not.toMatch(/Seq Scan/);
      expect(await plan(sql.read, ['row-1'])).toMatch(new RegExp(`Index Scan using ${table}_pkey`));
      expect(await plan(sql.patchUpdate, ['row-1', [], '{}', 60])).toMatch(new RegExp(`Index Scan using ${table}_pkey`));
      expect(await plan(sql.touch, ['row-1', 60])).toMatch(new RegExp(`Index Scan using ${table}_pkey`));
      expect(await plan(sql.listUser, ['user-7'])).toMatch(new RegExp(`(Bitmap )?Index Scan (on|using) ${table}_users_user_id_idx`));
    });
  });

  it('every statement went back to the pool: no client left checked out, nobody waiting', () => {
    expect(pool.totalCount - pool.idleCount).toBe(0);
    expect(pool.waitingCount).toBe(0);
  });
});
