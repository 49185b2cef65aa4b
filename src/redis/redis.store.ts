// Type-only: ioredis is an optional peer dependency, and this module must load without it.
import type { Cluster, Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { DEFAULT_FALLBACK_TTL } from '../session.constants.js';
import { FIELD_HASH_PATCH_LUA, FIELD_PATCH_LUA, decodeFieldRecord, encodeFieldRecord } from '../records/field-record.js';
import { DeadlineQueue } from './deadline-queue.js';
import { bufferView } from '../records/buffer-view.js';
import type {
  LockingSessionStore,
  MergeableSessionStore,
  SessionFieldPatch,
  UpdatableSessionStore,
  UserIndexedSessionStore,
  UserSessionEntry,
} from '../interfaces/session-store.interface.js';

export type RedisStoreOperation = 'read' | 'write' | 'update' | 'remove' | 'touch' | 'lock' | 'index';

/** Releases a lock only for its owner's token. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Adds an index entry and keeps the index alive as long as its longest-lived session. */
const INDEX_SCRIPT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const PATCH = script(FIELD_HASH_PATCH_LUA);
const STRING_PATCH = script(FIELD_PATCH_LUA);
const RELEASE = script(RELEASE_SCRIPT);
const INDEX = script(INDEX_SCRIPT);

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster`. The app owns it: the store never connects or quits it. */
  client: Redis | Cluster;
  /**
   * Key prefix (default `'sess:'`), or a function that receives the session ID and returns the
   * whole key. On a Cluster, a function can add a hash tag to place keys on chosen slots.
   */
  prefix?: string | ((id: string) => string);
  /**
   * Seconds a browser-session record (`lifetime` 0) lives after its last write, and what a
   * `ttl <= 0` means. When set it wins over the module's `fallbackTtl` for this store, on every
   * write path (create, change, touch). Default: the module's `fallbackTtl` (2592000, 30 days).
   */
  fallbackTtl?: number;
  /**
   * Milliseconds each operation may take before it fails with `RedisStoreTimeoutError`.
   * Default 1000. Enforced by the store because an ioredis client with default options queues
   * commands while disconnected and retries them for far longer than a request can wait.
   */
  timeout?: number;
  /**
   * Prefix of the per-user index keys (`<indexPrefix>user:<userId>`, `<indexPrefix>handle:<handle>`).
   * Default: `prefix` when it is a string, else `'sess:'`.
   */
  indexPrefix?: string;
}

/** A Redis command did not answer within the store's `timeout`. */
export class RedisStoreTimeoutError extends Error {
  override readonly name = 'RedisStoreTimeoutError';
  constructor(
    readonly operation: RedisStoreOperation,
    readonly timeout: number,
  ) {
    super(`RedisStore: ${operation} did not complete within ${timeout} ms (Redis unreachable or not answering).`);
  }
}

const DEFAULT_PREFIX = 'sess:';
const DEFAULT_TIMEOUT = 1000;
// setTimeout fires at once for larger delays.
const MAX_TIMER_DELAY = 2_147_483_647;
const REQUIRED_METHODS = ['getBuffer', 'set', 'unlink', 'pexpire', 'callBuffer'] as const;

/**
 * Session store on Redis (single node or Cluster). Each operation is one single-key command,
 * so it works on any Cluster slot layout, and every key written carries a TTL.
 *
 * A command that timed out cannot be withdrawn from ioredis: it may still run once Redis
 * answers again. That is harmless here: `update` and `touch` never recreate a removed record,
 * and `remove` is idempotent.
 */
export class RedisStore implements UpdatableSessionStore, MergeableSessionStore, LockingSessionStore, UserIndexedSessionStore {
  private readonly client: Redis | Cluster;
  private readonly keyOf: (id: string) => string;
  private readonly indexPrefix: string;
  /** The store's own `fallbackTtl`, when given: the module then uses it for `lifetime: 0` sessions. */
  readonly fallbackTtl: number | undefined;
  private readonly fallbackSeconds: number;
  private readonly timeout: number;
  private readonly deadlines: DeadlineQueue;

  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('RedisStore: options are required: new RedisStore({ client }).');
    }
    const { client, prefix = DEFAULT_PREFIX, fallbackTtl, timeout = DEFAULT_TIMEOUT } = options;
    const indexPrefix = options.indexPrefix ?? (typeof prefix === 'string' ? prefix : DEFAULT_PREFIX);
    if (typeof indexPrefix !== 'string') throw new TypeError('RedisStore: `indexPrefix` must be a string.');
    this.indexPrefix = indexPrefix;
    if (client === null || typeof client !== 'object') {
      throw new TypeError('RedisStore: `client` is required (an ioredis Redis or Cluster instance).');
    }
    // Duck-typed so that checking the client never loads ioredis.
    const missing = REQUIRED_METHODS.filter((m) => typeof (client as unknown as Record<string, unknown>)[m] !== 'function');
    if (missing.length > 0) {
      throw new TypeError(`RedisStore: \`client\` is not an ioredis Redis or Cluster (missing ${missing.join(', ')}).`);
    }
    if (typeof prefix === 'string') {
      this.keyOf = (id) => prefix + id;
    } else if (typeof prefix === 'function') {
      this.keyOf = (id) => {
        const key = prefix(id);
        if (typeof key !== 'string' || key === '') {
          throw new TypeError('RedisStore: the `prefix` function must return a non-empty string key.');
        }
        return key;
      };
    } else {
      throw new TypeError('RedisStore: `prefix` must be a string or a function (id) => key.');
    }
    if (fallbackTtl !== undefined && (typeof fallbackTtl !== 'number' || !Number.isFinite(fallbackTtl) || fallbackTtl <= 0)) {
      throw new RangeError(`RedisStore: \`fallbackTtl\` must be a positive number of seconds, got ${String(fallbackTtl)}.`);
    }
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMER_DELAY) {
      throw new RangeError(
        `RedisStore: \`timeout\` must be a positive number of milliseconds up to ${MAX_TIMER_DELAY}, got ${String(timeout)}.`,
      );
    }
    this.client = client;
    this.fallbackTtl = fallbackTtl;
    this.fallbackSeconds = fallbackTtl ?? DEFAULT_FALLBACK_TTL;
    this.timeout = timeout;
    this.deadlines = new DeadlineQueue(timeout);
  }

  /**
   * The stored bytes: a value written by `write`, or a per-key record (a hash) in the JSON form
   * MemoryStore keeps, which `readSessionData` decodes.
   */
  async read(id: string, _lifetime: number): Promise<Buffer | null> {
    const key = this.keyOf(id);
    try {
      return await this.bounded('read', () => this.client.getBuffer(key));
    } catch (error) {
      if (!isWrongType(error)) throw error;
      const fields = await this.readHash(key);
      return fields === null ? null : encodeFieldRecord(fields);
    }
  }

  async write(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string> {
    const key = this.keyOf(id);
    const ms = this.ttlMs(lifetime, ttl);
    await this.bounded('write', () => this.client.set(key, bufferView(data), 'PX', ms));
    return id;
  }

  async update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string | null> {
    const key = this.keyOf(id);
    const ms = this.ttlMs(lifetime, ttl);
    // XX: a record removed meanwhile (logout) stays removed.
    const reply = await this.bounded('update', () => this.client.set(key, bufferView(data), 'PX', ms, 'XX'));
    return reply === null ? null : id;
  }

  async remove(id: string): Promise<void> {
    const key = this.keyOf(id);
    await this.bounded('remove', () => this.client.unlink(key));
  }

  /** False when the key is gone: PEXPIRE on a missing key is a no-op, never a recreation. */
  async touch(id: string, ttl: number): Promise<boolean> {
    const key = this.keyOf(id);
    return (await this.bounded('touch', () => this.client.pexpire(key, this.ttlMs(undefined, ttl)))) === 1;
  }

  async readFields(id: string, _lifetime: number): Promise<Map<string, Uint8Array> | null> {
    const key = this.keyOf(id);
    try {
      return await this.readHash(key);
    } catch (error) {
      // A record kept as one JSON string: written before the hash layout, or by `write`.
      if (!isWrongType(error)) throw error;
      return decodeFieldRecord(await this.bounded('read', () => this.client.getBuffer(key)));
    }
  }

  async patch(id: string, patch: SessionFieldPatch, ttl: number, mode: 'create' | 'update'): Promise<boolean> {
    const key = this.keyOf(id);
    const operation = mode === 'create' ? 'write' : 'update';
    const head = [mode === 'create' ? 'c' : 'u', String(this.ttlMs(undefined, ttl)), String(patch.set.size)];
    const args: (string | Buffer)[] = head.slice();
    for (const [field, value] of patch.set) args.push(field, bufferView(value));
    // A create starts from an empty record: nothing to delete.
    if (mode === 'update') for (const field of patch.unset) args.push(field);
    try {
      return (await this.bounded(operation, () => this.run(PATCH, key, args))) === 1;
    } catch (error) {
      // An update of a record still kept as one string value (the layout before the hash): merged
      // in that layout, which it keeps until it expires. A create replaces whatever was there.
      if (!isWrongType(error)) throw error;
      const legacy: string[] = head;
      for (const [field, value] of patch.set) legacy.push(field, bufferView(value).toString('base64'));
      legacy.push(...patch.unset);
      return (await this.bounded(operation, () => this.run(STRING_PATCH, key, legacy))) === 1;
    }
  }

  async acquireLock(id: string, token: string, ttl: number): Promise<boolean> {
    const key = `${this.keyOf(id)}:lock`;
    const reply = await this.bounded('lock', () => this.client.set(key, token, 'PX', Math.max(1, Math.ceil(ttl)), 'NX'));
    return reply === 'OK';
  }

  async releaseLock(id: string, token: string): Promise<void> {
    const key = `${this.keyOf(id)}:lock`;
    await this.bounded('lock', () => this.run(RELEASE, key, [token]));
  }

  async indexUserSession(userId: string, entry: UserSessionEntry): Promise<void> {
    const ms = String(Math.max(1, Math.ceil(entry.expiresAt - Date.now())));
    // Two keys on possibly different Cluster slots: two single-key commands, sent together.
    await this.bounded('index', () =>
      Promise.all([
        this.run(INDEX, this.userKey(userId), [entry.handle, JSON.stringify(entry), ms]),
        this.client.set(this.handleKey(entry.handle), userId, 'PX', Number(ms)),
      ]),
    );
  }

  async listUserSessions(userId: string): Promise<UserSessionEntry[]> {
    const raw = await this.bounded('index', () => this.client.hgetall(this.userKey(userId)));
    const now = Date.now();
    const live: UserSessionEntry[] = [];
    const expired: string[] = [];
    for (const [handle, json] of Object.entries(raw ?? {})) {
      const entry = parseEntry(json);
      if (entry && entry.expiresAt > now) live.push(entry);
      else expired.push(handle);
    }
    if (expired.length > 0) {
      // Pruning is housekeeping: a failure here must not fail the listing.
      await this.bounded('index', () => this.client.hdel(this.userKey(userId), ...expired)).catch(() => undefined);
    }
    return live;
  }

  async unindexUserSession(userId: string, handle: string): Promise<void> {
    await this.bounded('index', () =>
      Promise.all([this.client.hdel(this.userKey(userId), handle), this.client.unlink(this.handleKey(handle))]),
    );
  }

  async resolveUserSession(handle: string): Promise<{ userId: string; sessionId: string } | null> {
    const userId = await this.bounded('index', () => this.client.get(this.handleKey(handle)));
    if (userId === null) return null;
    const json = await this.bounded('index', () => this.client.hget(this.userKey(userId), handle));
    const entry = json === null ? undefined : parseEntry(json);
    return entry ? { userId, sessionId: entry.sessionId } : null;
  }

  private userKey(userId: string): string {
    return `${this.indexPrefix}user:${userId}`;
  }

  private handleKey(handle: string): string {
    return `${this.indexPrefix}handle:${handle}`;
  }

  /** The fields of a hash record; `null` when there is none. */
  private async readHash(key: string): Promise<Map<string, Uint8Array> | null> {
    const reply = (await this.bounded('read', () => this.client.callBuffer('HGETALL', key))) as Buffer[];
    if (reply.length === 0) return null;
    const fields = new Map<string, Uint8Array>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(reply[i]!.toString('utf8'), reply[i + 1]!);
    return fields;
  }

  /** EVALSHA, falling back to EVAL once when the server does not know the script yet. */
  private async run(scriptToRun: Script, key: string, args: (string | Buffer)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(scriptToRun.sha, 1, key, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
      return this.client.eval(scriptToRun.source, 1, key, ...args);
    }
  }

  /**
   * The module's `ttl` is exact (it already applies this store's `fallbackTtl` to `lifetime: 0`
   * sessions); `ttl <= 0` asks the store to keep the record for its fallback, as MemoryStore
   * does. A direct caller's `lifetime: 0` write is still capped by the fallback.
   */
  private ttlMs(lifetime: number | undefined, ttl: number): number {
    const exact = Number.isFinite(ttl) && ttl > 0;
    const seconds = !exact ? this.fallbackSeconds : lifetime === 0 ? Math.min(ttl, this.fallbackSeconds) : ttl;
    // Never 0: PX 0 is an error and PEXPIRE 0 deletes the key.
    return Math.max(1, Math.ceil(seconds * 1000));
  }

  private bounded<T>(operation: RedisStoreOperation, command: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.add(() => reject(new RedisStoreTimeoutError(operation, this.timeout)));
      let running: Promise<T>;
      try {
        running = command();
      } catch (error) {
        this.deadlines.settle(deadline);
        return reject(error);
      }
      // A rejection arriving after the timeout (ioredis gives up much later) is handled here and dropped.
      running.then(
        (value) => {
          this.deadlines.settle(deadline);
          resolve(value);
        },
        (error: unknown) => {
          this.deadlines.settle(deadline);
          reject(error);
        },
      );
    });
  }
}

function parseEntry(json: string): UserSessionEntry | undefined {
  try {
    const entry = JSON.parse(json) as UserSessionEntry;
    return typeof entry?.sessionId === 'string' && typeof entry.expiresAt === 'number' ? entry : undefined;
  } catch {
    return undefined;
  }
}

function isWrongType(error: unknown): boolean {
  return String((error as Error | undefined)?.message).startsWith('WRONGTYPE');
}

