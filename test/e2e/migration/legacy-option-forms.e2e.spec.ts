/**
 * The other forms of the `legacy` option: the express-session store itself (`{ store }`, read
 * through its get/destroy) and the Redis client connect-redis used (`{ client, prefix }`).
 * Both move a real express-session + connect-redis session as `{ source }` does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { SessionOptionsError } from '../../../src/index.js';
import { resolveSessionOptions } from '../../../src/options/session-options.validator.js';
import { CountingStore } from '../../support/counting-store.js';
import { redisAvailable, redisCommand, startRedisServer, type RedisServer } from '../../support/redis-server.js';
import { SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';
import {
  LEGACY_SECRET,
  OLD_DATA,
  legacyExpressApp,
  legacyLogin,
  legacyStore,
  migratingModule,
  nodeRedisClient,
  type NodeRedis,
} from './migration-support.js';

const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis('legacy option forms: { store } and { client, prefix }', () => {
  let server: RedisServer;
  let oldClient: NodeRedis;
  let ioredis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    oldClient = await nodeRedisClient(server);
    ioredis = new Redis({ host: server.host, port: server.port });
  }, 20000);
  afterAll(async () => {
    ioredis?.disconnect();
    oldClient?.destroy();
    await server?.stop();
  });

  const forms = () =>
    [
      ['{ store: connect-redis RedisStore }', { store: legacyStore(oldClient) }],
      ['{ client: ioredis, prefix }', { client: ioredis, prefix: 'sess:' }],
    ] as const;

  it.each([0, 1])('form %#: the old session is served, moved under our cookie, its record removed', async (index) => {
    const [, legacy] = forms()[index]!;
    const oldApp = legacyExpressApp(legacyStore(oldClient), LEGACY_SECRET);
    const login = await legacyLogin(oldApp);
    const app = await startApp(migratingModule({ source: undefined as never, legacy, store: new CountingStore() }));
    try {
      const res = await http(app).get('/me').set('Cookie', login.cookie).expect(200);
      expect(res.body.data).toEqual(OLD_DATA);
      const ours = sessionCookie(res)!;
      expect(ours).toBeDefined();
      expect(await redisCommand(server.port, ['EXISTS', `sess:${login.id}`])).toBe(0);
      expect((await http(app).get('/me').set('Cookie', ours).expect(200)).body.data).toEqual(OLD_DATA);
    } finally {
      await app.close();
    }
  });

  it('refuses more than one form, or none, at startup', () => {
    expect(() => resolveSessionOptions({ secret: SECRET, legacy: { secret: LEGACY_SECRET } })).toThrow(SessionOptionsError);
    expect(() => resolveSessionOptions({ secret: SECRET, legacy: { secret: LEGACY_SECRET, store: legacyStore(oldClient), client: ioredis } })).toThrow(/exactly one/);
  });
});
