import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SESSION_STORE } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { storeConformanceCases } from '../../../src/testing/index.js';
import { AppModule } from '../../../sample/app.module.js';
import { SampleMapStore } from '../../../sample/stores/sample-map.store.js';
import { redisAvailable, startRedisServer, type RedisServer } from '../../support/redis-server.js';
import { http, sessionCookie, startApp } from '../../support/session-app.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

async function visitsTwice(app: INestApplication) {
  const first = await http(app).get('/api/session').expect(200);
  expect(first.body.visits).toBe(1);
  const cookie = sessionCookie(first)!;
  const second = await http(app).get('/api/session').set('Cookie', cookie).expect(200);
  expect(second.body.visits).toBe(2);
}

describe('sample app stores', () => {
  it('uses the in-memory store by default', async () => {
    delete process.env.REDIS_URL;
    delete process.env.SESSION_STORE_KIND;
    const app = await startApp(AppModule);
    expect(app.get(SESSION_STORE).constructor.name).toBe('MemoryStore');
    await visitsTwice(app);
    await app.close();
  });

  describe('the custom store it registers through DI (SESSION_STORE_KIND=custom)', () => {
    let app: INestApplication;
    beforeAll(async () => {
      process.env.SESSION_STORE_KIND = 'custom';
      delete process.env.REDIS_URL;
      app = await startApp(AppModule);
    });
    afterAll(async () => {
      await app.close();
    });

    it('is built by Nest DI, with its injected backend', async () => {
      const store = app.get(SESSION_STORE);
      expect(store).toBeInstanceOf(SampleMapStore);
      await visitsTwice(app);
    });

    describe('passes the store conformance suite', () => {
      for (const conformance of storeConformanceCases(() => app.get<SampleMapStore>(SESSION_STORE))) {
        it(conformance.name, conformance.run);
      }
    });
  });

  const withRedis = redisAvailable() ? describe : describe.skip;
  withRedis('with REDIS_URL: RedisStore', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('keeps sessions in that Redis, under the sample prefix, with a TTL', async () => {
      process.env.REDIS_URL = `redis://127.0.0.1:${server.port}`;
      const app = await startApp(AppModule);
      expect(app.get(SESSION_STORE)).toBeInstanceOf(RedisStore);
      await visitsTwice(app);
      const probe = new Redis(server.port, '127.0.0.1');
      const keys = await probe.keys('sample:sess:*');
      expect(keys).toHaveLength(1);
      expect(await probe.pttl(keys[0])).toBeGreaterThan(0);
      probe.disconnect();
      await app.close();
    });
  });
});
