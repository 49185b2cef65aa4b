/**
 * A dead or frozen Redis behind the HTTP app, with the app's ioredis client on DEFAULT options
 * (offline queue, 20 retries per request): requests that need the session answer 503 within the
 * RedisStore budget (timeout, default 1000 ms) and carry no session cookie; routes that ignore
 * the session are unaffected; once Redis is back, requests succeed again by themselves.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { type RedisServer, redisAvailable, sleep, startRedisServer } from '../../support/redis-server.js';
import { PLATFORMS, RecordingLogger, SECRET, http, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { pollUntil, timed } from './redis-e2e-support.js';

const describeRedis = redisAvailable() ? describe : describe.skip;
const BUDGET_MS = 1000; // RedisStore's default timeout
const LIMIT_MS = 1500; // budget + slack
const FAST_MS = 300; // a route that never touches the session

@Controller()
class FailureController {
  constructor(private readonly sessions: SessionService) {}
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
  @Get('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  @Get('health') health() {
    return { ok: true };
  }
}

/** One app module per platform. */
function rejectingRedisApp(client: () => Redis, logger: RecordingLogger) {
  @Module({
    imports: [
      SessionModule.forRootAsync({
        // The client exists only once the server is up (beforeAll), so the options are built late.
        useFactory: () => ({
          secret: SECRET,
          store: new RedisStore({ client: client() }),
          cookie: { secure: false },
          logger,
        }),
      }),
    ],
    controllers: [FailureController],
  })
  class RejectingRedisApp {}
  return RejectingRedisApp;
}

const sid = (res: { headers: Record<string, unknown> }) => setCookies(res).filter((c) => c.startsWith('sid='));

describe.each(PLATFORMS)('Redis failure, reject (%s)', (platform) => {
  // Each platform gets its own server, client and logger.
  let client: Redis;
  const logger = new RecordingLogger();

  describeRedis('Redis failure through the HTTP app (storeFailure: reject, ioredis defaults)', () => {
    let server: RedisServer;
    let app: INestApplication;
    const measured: string[] = [];

    beforeAll(async () => {
      server = await startRedisServer();
      // ioredis's defaults; the error listener only silences "Unhandled error event" logging.
      client = new Redis({ host: server.host, port: server.port });
      client.on('error', () => {});
      await client.ping();
      app = await startApp(rejectingRedisApp(() => client, logger), platform);
    }, 20000);

    afterEach(() => server.resume());

    afterAll(async () => {
      await app?.close();
      client?.disconnect();
      await server?.stop();
      console.log(`Redis failure (reject, ${platform}) timings:\n  ${measured.join('\n  ')}`);
    });

    it('SIGSTOP for ~3 s: no request waits longer than the budget; after SIGCONT the session is intact', async () => {
      const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
      await http(app).get('/count').set('Cookie', cookie).expect(200, { count: 2 });

      server.pause();
      const pausedAt = performance.now();
      const latencies: number[] = [];
      try {
        while (performance.now() - pausedAt < 3000) {
          const { ms, value: res } = await timed(http(app).get('/count').set('Cookie', cookie).then((r) => r));
          latencies.push(ms);
          expect(res.status).toBe(503);
          expect(res.body.message).toMatch(/session store unavailable/i);
          expect(sid(res)).toEqual([]);
          expect(ms).toBeLessThan(LIMIT_MS);
          const health = await timed(http(app).get('/health').then((r) => r));
          expect(health.value.status).toBe(200);
          expect(health.ms).toBeLessThan(FAST_MS);
        }
      } finally {
        server.resume();
      }
      expect(latencies.length).toBeGreaterThanOrEqual(2);
      expect(Math.min(...latencies)).toBeGreaterThanOrEqual(BUDGET_MS - 20);

      const last: { body?: unknown } = {};
      const recovery = await pollUntil(async () => {
        const res = await http(app).get('/count').set('Cookie', cookie).then((r) => r);
        last.body = res.body;
        return res.status === 200;
      }, 5000);
      // Nothing was written while Redis was frozen, and nothing was lost.
      expect(last.body).toEqual({ count: 3 });
      measured.push(
        `SIGSTOP ${((performance.now() - pausedAt - recovery) / 1000).toFixed(1)} s: ${latencies.length} requests answered 503 in ` +
          `${latencies.map((l) => l.toFixed(0)).join('/')} ms; after SIGCONT, first 200 after ${recovery.toFixed(0)} ms`,
      );
    }, 20000);

    it('killed: reads, writes and logouts answer 503 within the budget with no session cookie; a route without session answers fast', async () => {
      const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
      logger.calls.length = 0;
      await server.kill();

      const read = await timed(http(app).get('/peek').set('Cookie', cookie).then((r) => r));
      const update = await timed(http(app).get('/count').set('Cookie', cookie).then((r) => r));
      const create = await timed(http(app).get('/count').then((r) => r)); // no cookie: only the SET needs Redis
      const logout = await timed(http(app).get('/logout').set('Cookie', cookie).then((r) => r));
      for (const { ms, value: res } of [read, update, create, logout]) {
        expect(res.status).toBe(503);
        expect(res.body.message).toMatch(/session store unavailable/i);
        // A failed logout is not reported as a success: no clearing cookie either.
        expect(sid(res)).toEqual([]);
        expect(ms).toBeLessThan(LIMIT_MS);
      }
      const health = await timed(http(app).get('/health').set('Cookie', cookie).then((r) => r));
      expect(health.value.status).toBe(200);
      expect(health.ms).toBeLessThan(FAST_MS);
      expect(logger.messages('error').some((m) => /store (read|write|remove) failed/i.test(m))).toBe(true);

      const downAt = performance.now();
      await server.restart();
      const restartedIn = performance.now() - downAt;
      const last: { body?: unknown; cookie?: string } = {};
      const recovery = await pollUntil(async () => {
        const res = await http(app).get('/count').set('Cookie', cookie).then((r) => r);
        last.body = res.body;
        last.cookie = sessionCookie(res);
        return res.status === 200;
      }, 10000);
      // The restarted Redis is empty: a fresh session under a fresh ID, and it works from then on.
      expect(last.body).toEqual({ count: 1 });
      const fresh = last.cookie!;
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(cookie);
      await http(app).get('/count').set('Cookie', fresh).expect(200, { count: 2 });
      measured.push(
        `killed: 503 after read ${read.ms.toFixed(0)} / update ${update.ms.toFixed(0)} / create ${create.ms.toFixed(0)} / ` +
          `logout ${logout.ms.toFixed(0)} ms; /health ${health.ms.toFixed(0)} ms; ` +
          `restart took ${restartedIn.toFixed(0)} ms, first 200 ${recovery.toFixed(0)} ms after it`,
      );
    }, 30000);

    it('after recovery, requests keep succeeding (no leftover failures from the outage)', async () => {
      const cookie = sessionCookie(await http(app).get('/count').expect(200, { count: 1 }))!;
      for (let i = 2; i <= 5; i++) await http(app).get('/count').set('Cookie', cookie).expect(200, { count: i });
      await sleep(10);
    });
  });
});
