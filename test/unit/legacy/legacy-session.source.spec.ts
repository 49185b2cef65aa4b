/**
 * The whole read path of a zero-logout migration against the real libraries: sessions are
 * created by express-session + connect-redis (node-redis client) on a real Express app backed
 * by a real Redis, then read back with our functions through ioredis, node-redis and the
 * connect-redis store itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createClient, RESP_TYPES } from 'redis';
import request from 'supertest';
import { unsignExpressSessionCookie } from '../../../src/legacy/express-session-cookie.js';
import { parseExpressSessionRecord } from '../../../src/legacy/express-session-record.js';
import {
  connectRedisSource,
  expressSessionStoreSource,
  type LegacySessionSource,
} from '../../../src/legacy/legacy-session.source.js';
import { type RedisServer, redisAvailable, sleep, startRedisServer } from '../../support/redis-server.js';

const SECRET = 'the old express-session secret, 32+ chars';
const OLD_SECRET = 'the secret before that one, still in the list';
const USER = { id: 7, name: 'alice', roles: ['admin'] };

type AnySession = Record<string, unknown> & { cookie: session.Cookie };

/**
 * A real express-session app. `/login` stores Passport's shape (`passport.user`) plus app data;
 * `?maxAge=` sets this session's cookie lifetime (none: a browser-session cookie).
 */
function legacyApp(store: session.Store, secret: string | string[] = SECRET) {
  const app = express();
  app.use(session({ store, secret, resave: false, saveUninitialized: false, name: 'connect.sid' }));
  app.get('/login', (req, res) => {
    const s = req.session as unknown as AnySession;
    if (req.query['maxAge'] !== undefined) s.cookie.maxAge = Number(req.query['maxAge']);
    s['passport'] = { user: USER };
    s['visits'] = 1;
    res.json({ id: req.sessionID });
  });
  app.get('/whoami', (req, res) => {
    res.json({ passport: (req.session as unknown as AnySession)['passport'] ?? null });
  });
  return app;
}

async function login(app: express.Express, maxAge?: number) {
  const response = await request(app).get('/login').query(maxAge === undefined ? {} : { maxAge }).expect(200);
  const header = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='))!;
  return {
    /** The cookie value as in the header: `s%3A<id>.<signature>`. */
    value: header.slice('connect.sid='.length, header.indexOf(';')),
    header,
    id: (response.body as { id: string }).id,
  };
}

const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis('legacy sources on express-session + connect-redis + Redis', () => {
  let server: RedisServer;
  let nodeRedis: ReturnType<typeof createClient>;
  let ioredis: Redis;
  let ioredisWithKeyPrefix: Redis;
  let store: RedisStore;
  let app: express.Express;
  // Unique per run, and removed afterwards, so the run never meets or leaves other keys.
  const base = `sessionkit-legacy-test:${randomUUID()}:`;
  const prefix = `${base}sess:`;

  beforeAll(async () => {
    server = await startRedisServer();
    nodeRedis = createClient({ socket: { host: server.host, port: server.port, reconnectStrategy: false } });
    nodeRedis.on('error', () => {});
    await nodeRedis.connect();
    ioredis = new Redis({ host: server.host, port: server.port });
    ioredisWithKeyPrefix = new Redis({ host: server.host, port: server.port, keyPrefix: base });
    store = new RedisStore({ client: nodeRedis, prefix });
    app = legacyApp(store, [SECRET, OLD_SECRET]);
  }, 20000);

  afterAll(async () => {
    if (ioredis) {
      const keys = await ioredis.keys(`${base}*`);
      if (keys.length > 0) await ioredis.del(...keys);
      expect(await ioredis.keys(`${base}*`)).toEqual([]);
    }
    nodeRedis?.destroy();
    ioredis?.disconnect();
    ioredisWithKeyPrefix?.disconnect();
    await server?.stop();
  });

  const sources: [string, () => LegacySessionSource][] = [
    ['connectRedisSource with ioredis', () => connectRedisSource({ client: ioredis, prefix })],
    ['connectRedisSource with node-redis', () => connectRedisSource({ client: nodeRedis, prefix })],
    ['connectRedisSource with node-redis returning Buffers', () => connectRedisSource({ client: nodeRedis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }), prefix })],
    ['connectRedisSource with an ioredis keyPrefix', () => connectRedisSource({ client: ioredisWithKeyPrefix, prefix: 'sess:' })],
    ['expressSessionStoreSource(connect-redis RedisStore)', () => expressSessionStoreSource(store)],
  ];

  it('connect-redis stores JSON.stringify(session) under <prefix><id>, TTL from cookie.expires', async () => {
    const { id, header } = await login(app, 60_000);
    const text = await ioredis.get(`${prefix}${id}`);
    const record = JSON.parse(text!) as { cookie: Record<string, unknown> };
    expect(Object.keys(record)).toEqual(['cookie', 'passport', 'visits']);
    expect(record.cookie).toEqual({ originalMaxAge: 60_000, expires: expect.any(String), httpOnly: true, path: '/' });
    // The cookie's Expires attribute and the record agree to the second.
    const cookieExpires = Date.parse(/Expires=([^;]+)/.exec(header)![1]!);
    expect(Math.abs(Date.parse(record.cookie['expires'] as string) - cookieExpires)).toBeLessThan(1000);
    const ttl = await ioredis.ttl(`${prefix}${id}`);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('a browser-session cookie is stored with expires null and connect-redis’s one-day TTL', async () => {
    const { id, header } = await login(app);
    expect(header).not.toMatch(/Expires=|Max-Age=/i);
    const record = JSON.parse((await ioredis.get(`${prefix}${id}`))!) as { cookie: Record<string, unknown> };
    expect(record.cookie).toEqual({ originalMaxAge: null, expires: null, httpOnly: true, path: '/' });
    expect(await ioredis.ttl(`${prefix}${id}`)).toBeGreaterThan(86_400 - 5);
    const parsed = parseExpressSessionRecord(await sources[0]![1]().get(id), Date.now());
    expect(parsed).toEqual({ data: { passport: { user: USER }, visits: 1 }, expiresAt: undefined });
  });

  describe.each(sources)('%s', (_label, makeSource) => {
    it('unsigns the real cookie, reads and parses the record, and destroy removes it', async () => {
      const source = makeSource();
      const before = Date.now();
      const { value, id } = await login(app, 3_600_000);

      const unsigned = unsignExpressSessionCookie(value, [SECRET, OLD_SECRET]);
      expect(unsigned).toBe(id);

      const raw = await source.get(unsigned!);
      expect(raw).not.toBeNull();
      const parsed = parseExpressSessionRecord(raw, Date.now());
      expect(parsed?.data).toEqual({ passport: { user: USER }, visits: 1 });
      expect(parsed?.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(parsed?.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);

      // The old app still serves it until it is moved.
      const served = await request(app).get('/whoami').set('Cookie', `connect.sid=${value}`).expect(200);
      expect(served.body).toEqual({ passport: { user: USER } });

      await source.destroy(id);
      expect(await ioredis.exists(`${prefix}${id}`)).toBe(0);
      expect(await source.get(id)).toBeNull();
      const gone = await request(app).get('/whoami').set('Cookie', `connect.sid=${value}`).expect(200);
      expect(gone.body).toEqual({ passport: null });
      // Destroying what is already gone is not an error.
      await expect(source.destroy(id)).resolves.toBeUndefined();
    });

    it('cookies of the old secret unsign; wrong secrets and tampering do not', async () => {
      const oldApp = legacyApp(store, OLD_SECRET);
      const { value, id } = await login(oldApp, 60_000);
      expect(unsignExpressSessionCookie(value, [SECRET, OLD_SECRET])).toBe(id);
      expect(unsignExpressSessionCookie(value, [SECRET])).toBeNull();
      const decoded = decodeURIComponent(value);
      const tampered = `${decoded.slice(0, -1)}${decoded.endsWith('A') ? 'B' : 'A'}`;
      expect(unsignExpressSessionCookie(tampered, [SECRET, OLD_SECRET])).toBeNull();
      await makeSource().destroy(id);
    });

    it('refuses an expired session whose record Redis still holds', async () => {
      const source = makeSource();
      // connect-redis rounds the TTL up to whole seconds, so the record outlives a 300 ms cookie.
      const { id } = await login(app, 300);
      const pttl = await ioredis.pttl(`${prefix}${id}`);
      expect(pttl).toBeGreaterThan(500);
      expect(pttl).toBeLessThanOrEqual(1000);
      const fresh = await source.get(id);
      expect(parseExpressSessionRecord(fresh, Date.now())).not.toBeNull();

      await sleep(450);
      const raw = await source.get(id);
      expect(raw).not.toBeNull();
      expect(parseExpressSessionRecord(raw, Date.now())).toBeNull();
      await source.destroy(id);
    });

    it('returns null for an ID that has no record', async () => {
      const source = makeSource();
      expect(await source.get(`missing-${randomUUID()}`)).toBeNull();
      expect(parseExpressSessionRecord(null, Date.now())).toBeNull();
    });
  });

  it('rejects (does not answer "no session") when Redis cannot be reached', async () => {
    const closed = createClient({ socket: { host: server.host, port: server.port, reconnectStrategy: false } });
    closed.on('error', () => {});
    await closed.connect();
    closed.destroy();
    await expect(connectRedisSource({ client: closed, prefix }).get('any')).rejects.toThrow();
    await expect(connectRedisSource({ client: closed, prefix }).destroy('any')).rejects.toThrow();
    const closedStore = new RedisStore({ client: closed, prefix });
    await expect(expressSessionStoreSource(closedStore).get('any')).rejects.toThrow();
    await expect(expressSessionStoreSource(closedStore).destroy('any')).rejects.toThrow();
  });
});

describe('expressSessionStoreSource on express-session’s MemoryStore', () => {
  it('reads and destroys sessions of a real app, and MemoryStore drops expired ones itself', async () => {
    const store = new session.MemoryStore();
    const app = legacyApp(store);
    const source = expressSessionStoreSource(store);
    const { value, id } = await login(app, 60_000);
    expect(unsignExpressSessionCookie(value, [SECRET])).toBe(id);

    const raw = await source.get(id);
    // MemoryStore hands back a parsed object, not text.
    expect(typeof raw).toBe('object');
    const parsed = parseExpressSessionRecord(raw, Date.now());
    expect(parsed?.data).toEqual({ passport: { user: USER }, visits: 1 });
    expect(parsed?.expiresAt).toBeGreaterThan(Date.now() + 55_000);

    await source.destroy(id);
    expect(await source.get(id)).toBeNull();

    const short = await login(app, 100);
    await sleep(200);
    expect(await source.get(short.id)).toBeNull();
  });
});

/** Stores that misbehave in ways real third-party stores have; only the Store base class is real. */
describe('expressSessionStoreSource with misbehaving stores', () => {
  class OddStore extends session.Store {
    constructor(private readonly behaviour: 'throws' | 'twice' | 'string error' | 'rejects' | 'sync') {
      super();
    }

    get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): Promise<void> | void {
      const record = { cookie: { expires: null }, sid } as unknown as session.SessionData;
      switch (this.behaviour) {
        case 'throws':
          throw new Error('sync failure');
        case 'twice':
          callback(null, record);
          callback(new Error('second call'));
          return;
        case 'string error':
          callback('ECONNREFUSED');
          return;
        case 'rejects':
          return Promise.reject(new Error('async failure'));
        case 'sync':
          callback(null, record);
          return;
      }
    }

    set(_sid: string, _session: session.SessionData, callback?: (err?: unknown) => void): void {
      callback?.();
    }

    destroy(_sid: string, callback?: (err?: unknown) => void): void {
      if (this.behaviour === 'throws') throw new Error('sync failure');
      callback?.();
    }
  }

  it('turns a synchronous throw into a rejection', async () => {
    await expect(expressSessionStoreSource(new OddStore('throws')).get('x')).rejects.toThrow('sync failure');
    await expect(expressSessionStoreSource(new OddStore('throws')).destroy('x')).rejects.toThrow('sync failure');
  });

  it('keeps the first of two callbacks', async () => {
    await expect(expressSessionStoreSource(new OddStore('twice')).get('x')).resolves.toEqual({ cookie: { expires: null }, sid: 'x' });
  });

  it('wraps a non-Error failure in an Error', async () => {
    await expect(expressSessionStoreSource(new OddStore('string error')).get('x')).rejects.toThrow('ECONNREFUSED');
  });

  it('rejects when the store rejects its returned promise without calling back', async () => {
    await expect(expressSessionStoreSource(new OddStore('rejects')).get('x')).rejects.toThrow('async failure');
  });

  it('accepts a synchronous callback', async () => {
    await expect(expressSessionStoreSource(new OddStore('sync')).get('x')).resolves.toEqual({ cookie: { expires: null }, sid: 'x' });
  });
});
