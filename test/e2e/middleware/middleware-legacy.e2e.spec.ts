/**
 * SessionMiddleware and the `legacy` option together: a request that reaches middleware with
 * only an express-session cookie gets the old session in `req.session` (migrated on that same
 * response), including when the middleware answers by itself (csrf-sync's 403: the move happens
 * when the head is written). The old sessions are created by a real express-session app on
 * express-session's own MemoryStore, read through `expressSessionStoreSource` (no Redis needed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Module, Post, Req, type INestApplication, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { csrfSync } from 'csrf-sync';
import session from 'express-session';
import { SessionMiddleware, SessionModule, expressSessionStoreSource } from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { PLATFORMS, SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';
import { LEGACY_SECRET, OLD_DATA, isClearingOfConnectSid, legacyClearing, legacyExpressApp, legacyLogin } from '../migration/migration-support.js';

const { csrfSynchronisedProtection } = csrfSync();
const raw = (req: unknown) => ((req as { raw?: unknown }).raw ?? req) as { session?: Record<string, unknown> };

@Controller('area')
class AreaController {
  @Get('me') me(@Req() req: unknown) {
    return { data: { ...raw(req).session } };
  }
  @Post('submit')
  @HttpCode(200)
  submit() {
    return { ok: true };
  }
}

describe.each(PLATFORMS)('SessionMiddleware with the legacy option (%s)', (platform) => {
  const oldStore = new session.MemoryStore();
  const oldApp = legacyExpressApp(oldStore, LEGACY_SECRET);
  const store = new CountingStore();
  let app: INestApplication;
  const has = (id: string) => new Promise<boolean>((resolve, reject) => oldStore.get(id, (err, s) => (err ? reject(err) : resolve(!!s))));

  beforeAll(async () => {
    @Module({
      imports: [
        SessionModule.forRoot({
          secret: SECRET,
          store,
          cookie: { secure: false },
          logger: false,
          legacy: { secret: LEGACY_SECRET, source: expressSessionStoreSource(oldStore) },
        }),
      ],
      controllers: [AreaController],
    })
    class LegacyMiddlewareModule implements NestModule {
      configure(consumer: MiddlewareConsumer) {
        consumer.apply(SessionMiddleware, csrfSynchronisedProtection).forRoutes(AreaController);
      }
    }
    app = await startApp(LegacyMiddlewareModule, platform);
  });
  afterAll(async () => {
    await app?.close();
    store.close();
  });

  it('req.session holds the old data in middleware and handler; the response moves it', async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).get('/area/me').set('Cookie', old.cookie).expect(200);
    expect(res.body.data).toEqual(OLD_DATA);
    const ours = sessionCookie(res);
    expect(ours).toBeDefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    expect(await has(old.id)).toBe(false);
    expect((await http(app).get('/area/me').set('Cookie', ours!).expect(200)).body.data).toEqual(OLD_DATA);
  });

  it("when the middleware answers itself (csrf-sync's 403), the move still happens as the head is written", async () => {
    const old = await legacyLogin(oldApp, 60_000);
    const res = await http(app).post('/area/submit').set('Cookie', old.cookie);
    expect(res.status).toBe(403);
    const ours = sessionCookie(res);
    expect(ours).toBeDefined();
    expect(isClearingOfConnectSid(legacyClearing(res))).toBe(true);
    // The store work follows the head; poll briefly.
    for (let i = 0; i < 50 && (await has(old.id)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await has(old.id)).toBe(false);
    expect((await http(app).get('/area/me').set('Cookie', ours!).expect(200)).body.data).toEqual(OLD_DATA);
  });
});
