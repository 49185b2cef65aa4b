/**
 * Every statement PostgresStore sends, built once per store from its table and schema names.
 * Each store operation is ONE statement (one round trip, atomic on its own): no
 * read-modify-write across round trips, no transaction held open by the store.
 *
 * Names are restricted to lower-case SQL identifiers (checked by the options) and quoted as
 * well, so nothing a caller passes can change a statement, and the unquoted names a user writes
 * in their own migrations mean the same tables.
 */

/** Lower-case letters, digits and `_`, not starting with a digit: the same quoted or not. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL truncates longer identifiers (NAMEDATALEN - 1), silently, with a NOTICE. */
const MAX_IDENTIFIER_LENGTH = 63;

// Names derived from the table name; the longest decides how long the table name may be.
const SUFFIXES = {
  expiresIndex: '_expires_at_idx',
  users: '_users',
  usersUserIndex: '_users_user_id_idx',
  usersExpiresIndex: '_users_expires_at_idx',
  locks: '_locks',
  locksExpiresIndex: '_locks_expires_at_idx',
} as const;

/** Longest table name whose derived names (indexes, side tables) still fit in an identifier. */
export const MAX_TABLE_NAME_LENGTH = MAX_IDENTIFIER_LENGTH - Math.max(...Object.values(SUFFIXES).map((s) => s.length));
export const MAX_SCHEMA_NAME_LENGTH = MAX_IDENTIFIER_LENGTH;

export interface PostgresTableNames {
  /** Table name, unqualified (default `'sessions'`). */
  table: string;
  /** Schema; none: the connection's `search_path` decides. */
  schema?: string;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** `"seconds from now"`, from a `double precision` parameter: TTLs are fractional seconds. */
const fromNow = (param: string) => `now() + ${param}::double precision * interval '1 second'`;
/** Epoch milliseconds of a timestamptz, exact for values written from milliseconds. */
const epochMs = (column: string) => `round(extract(epoch from ${column}) * 1000)`;
/** A timestamptz from epoch milliseconds. */
const fromEpochMs = (param: string) => `to_timestamp(${param}::double precision / 1000)`;

export interface PostgresStatements {
  /** The DDL of the three tables and their indexes, idempotent (`IF NOT EXISTS`). */
  readonly schema: string;
  /** `schema` in one implicit transaction holding an advisory lock: concurrent first calls (or app instances) don't race. */
  readonly setup: string;
  /** $1..$3: the qualified names (text) to check with `to_regclass`. */
  readonly checkTables: string;
  readonly qualified: { readonly sessions: string; readonly users: string; readonly locks: string };

  /** $1 id → blob (bytea, hex text) | fields (jsonb as text) of a live row. */
  readonly read: string;
  /** $1 id, $2 bytes, $3 ttl s: create or replace. */
  readonly write: string;
  /** $1 id, $2 bytes, $3 ttl s: replace a live row only (rowCount 0: gone). */
  readonly update: string;
  /** $1 id. */
  readonly remove: string;
  /** $1 id, $2 ttl s: move the expiry of a live row (rowCount 0: gone, never recreated). */
  readonly touch: string;
  /** $1 id, $2 fields (jsonb text), $3 ttl s: create or replace a per-key record. */
  readonly patchCreate: string;
  /** $1 id, $2 fields to drop (text[]), $3 fields to set (jsonb text), $4 ttl s: merge into a live per-key record. */
  readonly patchUpdate: string;

  /** $1 id, $2 token, $3 ttl ms: take the lock if nobody holds it or the holder's expired (rowCount 1: taken). */
  readonly acquireLock: string;
  /** $1 id, $2 token: release, only by the owner. */
  readonly releaseLock: string;

  /** $1 handle, $2 user, $3 session id, $4 created ms, $5 last seen ms, $6 expires ms, $7 user agent. */
  readonly indexUser: string;
  /** $1 user → live entries whose session row is live too, most recent activity first. */
  readonly listUser: string;
  /** $1 user, $2 handle. */
  readonly unindexUser: string;
  /** $1 handle → user_id, session_id. */
  readonly resolveHandle: string;

  /** $1 batch size: deletes at most that many expired rows of each table, through its expires_at index. */
  readonly prune: { readonly sessions: string; readonly users: string; readonly locks: string };
}

export function postgresStatements({ table, schema }: PostgresTableNames): PostgresStatements {
  const qualify = (name: string) => (schema === undefined ? quote(name) : `${quote(schema)}.${quote(name)}`);
  const S = qualify(table);
  const U = qualify(table + SUFFIXES.users);
  const L = qualify(table + SUFFIXES.locks);
  const plain = (name: string) => (schema === undefined ? name : `${schema}.${name}`);

  const ddl = `CREATE TABLE IF NOT EXISTS ${S} (
  id text PRIMARY KEY,
  fields jsonb,          -- per-key record: {"<field>": "<base64 bytes>", ...}
  blob bytea,            -- whole-record payload (write/update); exactly one of the two is set
  expires_at timestamptz NOT NULL,
  CHECK ((fields IS NULL) <> (blob IS NULL))
);
CREATE INDEX IF NOT EXISTS ${quote(table + SUFFIXES.expiresIndex)} ON ${S} (expires_at);
CREATE TABLE IF NOT EXISTS ${U} (
  handle text PRIMARY KEY,
  user_id text NOT NULL,
  session_id text NOT NULL,
  created timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  user_agent text
);
CREATE INDEX IF NOT EXISTS ${quote(table + SUFFIXES.usersUserIndex)} ON ${U} (user_id);
CREATE INDEX IF NOT EXISTS ${quote(table + SUFFIXES.usersExpiresIndex)} ON ${U} (expires_at);
-- Locks live for one request: not worth WAL, and lost on a crash like their holders.
CREATE UNLOGGED TABLE IF NOT EXISTS ${L} (
  id text PRIMARY KEY,
  token text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${quote(table + SUFFIXES.locksExpiresIndex)} ON ${L} (expires_at);
`;

  // CREATE ... IF NOT EXISTS is not safe against itself: two sessions creating the same table at
  // once can fail on the catalog's unique index. One advisory lock per table name serializes
  // them. Sent as one simple query, the statements run as one implicit transaction, which holds
  // the lock to the end (no explicit BEGIN: a failure cannot leave a transaction open).
  const setup = `SELECT pg_advisory_xact_lock(${advisoryKey(plain(table))});\n${ddl}`;

  // `ctid = ANY (ARRAY(...))`, not `ctid IN (SELECT ...)`: with the limit a parameter the planner
  // may answer IN with a hash join over a sequential scan of the whole table; an array of
  // ctids is always a TID scan. The rows are locked (FOR UPDATE) until the DELETE has them.
  const prune = (T: string) =>
    `DELETE FROM ${T} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${T} WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED))`;

  return {
    schema: ddl,
    setup,
    checkTables: 'SELECT to_regclass($1) AS sessions, to_regclass($2) AS users, to_regclass($3) AS locks',
    qualified: { sessions: S, users: U, locks: L },

    read: `SELECT blob, fields::text AS fields FROM ${S} WHERE id = $1 AND expires_at > now()`,
    write:
      `INSERT INTO ${S} (id, fields, blob, expires_at) VALUES ($1, NULL, $2::bytea, ${fromNow('$3')}) ` +
      'ON CONFLICT (id) DO UPDATE SET fields = NULL, blob = EXCLUDED.blob, expires_at = EXCLUDED.expires_at',
    update: `UPDATE ${S} SET fields = NULL, blob = $2::bytea, expires_at = ${fromNow('$3')} WHERE id = $1 AND expires_at > now()`,
    remove: `DELETE FROM ${S} WHERE id = $1`,
    touch: `UPDATE ${S} SET expires_at = ${fromNow('$2')} WHERE id = $1 AND expires_at > now()`,
    patchCreate:
      `INSERT INTO ${S} (id, fields, blob, expires_at) VALUES ($1, $2::jsonb, NULL, ${fromNow('$3')}) ` +
      'ON CONFLICT (id) DO UPDATE SET fields = EXCLUDED.fields, blob = NULL, expires_at = EXCLUDED.expires_at',
    // A row that expired, was removed, or holds a blob is left alone: the update reports it gone.
    patchUpdate:
      `UPDATE ${S} SET fields = (fields - $2::text[]) || $3::jsonb, expires_at = ${fromNow('$4')} ` +
      'WHERE id = $1 AND expires_at > now() AND fields IS NOT NULL',

    // clock_timestamp(), not now(): a statement that waited for the row must judge the holder's
    // expiry at the time it looks, not at the time it started.
    acquireLock:
      `INSERT INTO ${L} AS l (id, token, expires_at) ` +
      "VALUES ($1, $2, clock_timestamp() + $3::double precision * interval '1 millisecond') " +
      'ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at WHERE l.expires_at <= clock_timestamp()',
    releaseLock: `DELETE FROM ${L} WHERE id = $1 AND token = $2`,

    indexUser:
      `INSERT INTO ${U} (handle, user_id, session_id, created, last_seen, expires_at, user_agent) ` +
      `VALUES ($1, $2, $3, ${fromEpochMs('$4')}, ${fromEpochMs('$5')}, ${fromEpochMs('$6')}, $7) ` +
      'ON CONFLICT (handle) DO UPDATE SET user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id, created = EXCLUDED.created, ' +
      'last_seen = EXCLUDED.last_seen, expires_at = EXCLUDED.expires_at, user_agent = EXCLUDED.user_agent',
    listUser:
      `SELECT u.handle, u.session_id, ${epochMs('u.created')} AS created, ${epochMs('u.last_seen')} AS last_seen, ` +
      `${epochMs('u.expires_at')} AS expires_at, u.user_agent FROM ${U} u JOIN ${S} s ON s.id = u.session_id ` +
      'WHERE u.user_id = $1 AND u.expires_at > now() AND s.expires_at > now() ORDER BY u.last_seen DESC',
    unindexUser: `DELETE FROM ${U} WHERE user_id = $1 AND handle = $2`,
    resolveHandle: `SELECT user_id, session_id FROM ${U} WHERE handle = $1 AND expires_at > now()`,

    prune: { sessions: prune(S), users: prune(U), locks: prune(L) },
  };
}

/** The names `to_regclass` takes for the three tables. */
export function regclassNames({ table, schema }: PostgresTableNames): [string, string, string] {
  const name = (t: string) => (schema === undefined ? quote(t) : `${quote(schema)}.${quote(t)}`);
  return [name(table), name(table + SUFFIXES.users), name(table + SUFFIXES.locks)];
}

/** A stable signed 32-bit key for pg_advisory_xact_lock (FNV-1a of the table's name). */
function advisoryKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of `sessionkit:${name}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
