/**
 * Where the old express-session records live (SPEC §11.3). The migration only needs to read a
 * record once and delete it once it has been moved, so a source is two calls, not a store.
 */
export interface LegacySessionSource {
  /**
   * The record of `id`: JSON text (connect-redis layout), an already parsed object (what
   * express-session stores hand back), or null when there is none. Feed it to
   * `parseExpressSessionRecord`. Rejects when the backend fails, so a Redis outage is not
   * mistaken for "no session" and a user logged out for it.
   */
  get(id: string): Promise<unknown>;
  /** Removes the record of `id`; removing a missing record succeeds. */
  destroy(id: string): Promise<void>;
}

/**
 * The two Redis calls a source needs. ioredis (`Redis`, `Cluster`) and node-redis v4 and later
 * (`createClient`, `createCluster`) both return promises from `get(key)` and accept a single
 * key in `del`, so either client fits as it is; no other method is called.
 */
export interface LegacyRedisClient {
  get(key: string): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

export interface ConnectRedisSourceOptions {
  client: LegacyRedisClient;
  /** connect-redis's `prefix` option; connect-redis defaults to `sess:`. */
  prefix?: string;
}

/**
 * Reads the keys connect-redis writes (`<prefix><id>`, JSON text) straight from Redis, with
 * whichever client the app now uses, so connect-redis itself need not be installed. A client
 * with its own key prefix (ioredis `keyPrefix`) applies it on top of `prefix`, as it did for
 * connect-redis.
 */
export function connectRedisSource({ client, prefix = 'sess:' }: ConnectRedisSourceOptions): LegacySessionSource {
  return {
    async get(id) {
      const value = await client.get(prefix + id);
      // node-redis with a Buffer type mapping returns bytes; the record is UTF-8 JSON.
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
      return value ?? null;
    },
    async destroy(id) {
      await client.del(prefix + id);
    },
  };
}

type StoreCallback = (error?: unknown, session?: unknown) => void;

/**
 * The callback API every express-session `Store` implements (connect-redis, connect-pg-simple,
 * connect-mongo, MemoryStore, …). Declared here so that express-session need not be installed.
 */
export interface ExpressSessionStoreLike {
  get(sid: string, callback: StoreCallback): unknown;
  destroy(sid: string, callback?: StoreCallback): unknown;
}

/**
 * Wraps any express-session store, so whatever backend the old app used can be migrated from.
 * The store's `get` already applies its own rules (MemoryStore drops expired records, for one);
 * the record it returns is still checked by `parseExpressSessionRecord`.
 */
export function expressSessionStoreSource(store: ExpressSessionStoreLike): LegacySessionSource {
  return {
    get: (id) => callStore<unknown>((done) => store.get(id, done)).then((session) => session ?? null),
    destroy: (id) => callStore<unknown>((done) => store.destroy(id, done)).then(() => undefined),
  };
}

/**
 * Stores differ in how they call back: some synchronously, some while also returning a promise
 * (connect-redis), and a buggy one might call twice or throw instead. A promise settles once, so
 * only the first outcome counts; a synchronous throw or a rejected returned promise becomes a
 * rejection instead of an exception or an unhandled rejection.
 */
function callStore<T>(invoke: (done: StoreCallback) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (error: unknown) => reject(error instanceof Error ? error : new Error(`express-session store failed: ${String(error)}`));
    const done: StoreCallback = (error, value) => (error ? fail(error) : resolve(value as T));
    try {
      const returned = invoke(done);
      if (returned instanceof Promise) returned.catch(fail);
    } catch (error) {
      fail(error);
    }
  });
}
