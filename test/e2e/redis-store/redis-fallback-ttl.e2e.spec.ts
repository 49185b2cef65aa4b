/**
 * A store's own `fallbackTtl` wins over the module's for `lifetime: 0` sessions, on every write
 * path: create, change, and the touch of a rolling read. Checked on the key's real PTTL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Session, SessionModule, type SessionData } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../../support/redis-server.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, sleep, startApp } from '../../support/session-app.js';

const describeRedis = redisAvailable() ? describe : describe.skip;

@Controller()
class CounterController {
  @Get('write') write(@Session() session: SessionData) {
    session.n = ((session.n as number) ?? 0) + 1;
    return { n: session.n };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { n: session.n ?? null };
  }
}

describeRedis.each(PLATFORMS)('RedisStore fallbackTtl precedence (%s)', (platform) => {
  let server: RedisServer;
  let client: Redis;
  let app: INestApplication;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis({ host: server.host, port: server.port });
    const store = new RedisStore({ client, fallbackTtl: 100 });
    @Module({
      // The module's own fallback (1 day) loses to the store's (100 s).
      imports: [SessionModule.forRoot({ secret: SECRET, store, lifetime: 0, rolling: true, fallbackTtl: 86_400, logger: false, cookie: { secure: false } })],
      controllers: [CounterController],
    })
    class FixtureModule {}
    app = await startApp(FixtureModule, platform);
  }, 20000);

  afterAll(async () => {
    await app?.close();
    await client?.quit().catch(() => client.disconnect());
    await server?.stop();
  });

  const pttl = (cookie: string) => client.pttl(`sess:${idOf(cookie)}`);

  it('create, change and touch all give the key at most the store fallbackTtl', async () => {
    const cookie = sessionCookie(await http(app).get('/write').expect(200, { n: 1 }))!;
    const created = await pttl(cookie);
    expect(created).toBeGreaterThan(95_000);
    expect(created).toBeLessThanOrEqual(100_000);

    await client.pexpire(`sess:${idOf(cookie)}`, 50_000);
    await http(app).get('/write').set('Cookie', cookie).expect(200, { n: 2 });
    const changed = await pttl(cookie);
    expect(changed).toBeGreaterThan(95_000);
    expect(changed).toBeLessThanOrEqual(100_000);

    // A rolling read soon after a write is a touch (its stamp is fresh): the TTL counts from the stamp.
    await client.pexpire(`sess:${idOf(cookie)}`, 50_000);
    await sleep(50);
    await http(app).get('/read').set('Cookie', cookie).expect(200, { n: 2 });
    const touched = await pttl(cookie);
    expect(touched).toBeGreaterThan(95_000);
    expect(touched).toBeLessThanOrEqual(100_000);
  });
});
