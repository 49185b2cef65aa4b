/**
 * `storeFailure: 'anonymous'` with a frozen or dead Redis (ioredis client on default options):
 * requests continue with an empty session that is never persisted and send no session cookie,
 * so the user's cookie survives the outage; once Redis answers again, the session is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Session, SessionModule, type SessionData } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../../support/redis-server.js';
import { PLATFORMS, RecordingLogger, SECRET, http, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { pollUntil, timed } from './redis-e2e-support.js';

const describeRedis = redisAvailable() ? describe : describe.skip;
const LIMIT_MS = 1500; // RedisStore's default 1000 ms budget + slack

@Controller()
class AnonymousController {
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
}

/** One app module per platform; the client exists only once the server is up, so it is read late. */
function anonymousRedisApp(client: () => Redis, logger: RecordingLogger) {
  @Module({
    imports: [
      SessionModule.forRootAsync({
        useFactory: () => ({
          secret: SECRET,
          store: new RedisStore({ client: client() }),
          cookie: { secure: false },
          storeFailure: 'anonymous' as const,
          logger,
        }),
      }),
    ],
    controllers: [AnonymousController],
  })
  class AnonymousRedisApp {}
  return AnonymousRedisApp;
}

const sid = (res: { headers: Record<string, unknown> }) => setCookies(res).filter((c) => c.startsWith('sid='));

describe.each(PLATFORMS)('Redis failure, anonymous (%s)', (platform) => {
  // Each platform gets its own server, client and logger.
  let client: Redis;
  const logger = new RecordingLogger();

  describeRedis("Redis failure through the HTTP app (storeFailure: 'anonymous', ioredis defaults)", () => {
    let server: RedisServer;
    let app: INestApplication;
    const measured: string[] = [];

    beforeAll(async () => {
      server = await startRedisServer();
      client = new Redis({ host: server.host, port: server.port });
      client.on('error', () => {});
      await client.ping();
      app = await startApp(anonymousRedisApp(() => client, logger), platform);
    }, 20000);

    afterEach(() => server.resume());

    afterAll(async () => {
      await app?.close();
      client?.disconnect();
      await server?.stop();
      console.log(`Redis failure (anonymous, ${platform}) timings:\n  ${measured.join('\n  ')}`);
    });

    it('frozen Redis: 2xx with an empty, unsaved session and no Set-Cookie; the session is intact afterwards', async () => {
      const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
      await http(app).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      logger.calls.length = 0;

      server.pause();
      let modifying, readOnly;
      try {
        modifying = await timed(http(app).get('/count').set('Cookie', cookie).then((r) => r));
        readOnly = await timed(http(app).get('/peek').set('Cookie', cookie).then((r) => r));
      } finally {
        server.resume();
      }
      expect(modifying.value.status).toBe(200);
      expect(modifying.value.body).toEqual({ count: 1 }); // an empty session, incremented, not saved
      expect(readOnly.value.status).toBe(200);
      expect(readOnly.value.body).toEqual({});
      for (const r of [modifying, readOnly]) {
        expect(sid(r.value)).toEqual([]);
        expect(r.ms).toBeLessThan(LIMIT_MS);
      }
      expect(logger.messages('error').some((m) => /store read failed/i.test(m))).toBe(true);

      // The user's cookie survived the outage, and so did the data: the anonymous write never happened.
      const recovery = await pollUntil(async () => {
        const res = await http(app).get('/peek').set('Cookie', cookie).then((r) => r);
        return res.status === 200 && res.body.count === 2;
      }, 5000);
      await http(app).get('/count').set('Cookie', cookie).expect(200, { count: 3 });
      measured.push(
        `SIGSTOP: anonymous 200 after ${modifying.ms.toFixed(0)} ms (modifying) / ${readOnly.ms.toFixed(0)} ms (read-only); ` +
          `session readable again ${recovery.toFixed(0)} ms after SIGCONT`,
      );
    }, 20000);

    it('killed Redis: 2xx with no Set-Cookie; after a restart on the same port, sessions persist again', async () => {
      const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
      await server.kill();
      const res = await timed(http(app).get('/count').set('Cookie', cookie).then((r) => r));
      expect(res.value.status).toBeGreaterThanOrEqual(200);
      expect(res.value.status).toBeLessThan(300);
      expect(res.value.body).toEqual({ count: 1 });
      expect(sid(res.value)).toEqual([]);
      expect(res.ms).toBeLessThan(LIMIT_MS);

      await server.restart();
      let fresh: string | undefined;
      const recovery = await pollUntil(async () => {
        const r = await http(app).get('/count').set('Cookie', cookie).then((x) => x);
        fresh = r.status === 200 ? sessionCookie(r) : undefined;
        return fresh !== undefined;
      }, 10000);
      await http(app).get('/count').set('Cookie', fresh!).expect(200, { count: 2 });
      measured.push(`killed: anonymous 200 after ${res.ms.toFixed(0)} ms; persisting again ${recovery.toFixed(0)} ms after restart`);
    }, 30000);
  });
});
