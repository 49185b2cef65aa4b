import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Res, Sse, type INestApplication, type MessageEvent } from '@nestjs/common';
import type { Response } from 'express';
import { interval, map, of, type Observable } from 'rxjs';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { SECRET, http, idOf, sessionCookie, sleep, startApp } from '../../support/session-app.js';
import { headOnly, listen, sidLines, stored } from '../commit-rules/fixtures.js';

const store = new MemoryStore();

@Controller('sse')
class EventsController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  /** Never completes: the head must carry the cookie, as nothing can be added later. */
  @Sse('live') live(@Session() session: SessionData): Observable<MessageEvent> {
    session.subscribed = 'live';
    return interval(20).pipe(map((i) => ({ data: { i } })));
  }
  @Sse('async-live') async asyncLive(@Session() session: SessionData): Promise<Observable<MessageEvent>> {
    await sleep(5);
    session.subscribed = 'async-live';
    return interval(20).pipe(map((i) => ({ data: { i } })));
  }
  @Sse('finite') finite(@Session() session: SessionData): Observable<MessageEvent> {
    session.subscribed = 'finite';
    return of({ data: 'one' }, { data: 'two' });
  }
  @Sse('own-cookie') ownCookie(@Session() session: SessionData, @Res({ passthrough: true }) res: Response): Observable<MessageEvent> {
    res.cookie('other', '1');
    session.subscribed = 'own-cookie';
    return interval(20).pipe(map((i) => ({ data: { i } })));
  }
  @Sse('read-only') readOnly(@Session('user') user: unknown): Observable<MessageEvent> {
    return interval(20).pipe(map(() => ({ data: { user } })));
  }
}

@Module({
  imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
  controllers: [EventsController],
})
class EventsAppModule {}

describe('answer styles: @Sse()', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    app = await startApp(EventsAppModule);
    port = await listen(app);
  });
  afterAll(async () => {
    app.getHttpServer().closeAllConnections?.();
    await app.close();
    store.close();
  });

  it.each(['live', 'async-live'])(
    '%s: the cookie is on the event-stream head of a stream that never ends; the data persisted',
    async (route) => {
      const head = await headOnly(port, `/sse/${route}`);
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
      const lines = sidLines({ headers: head.headers as Record<string, unknown> });
      expect(lines).toHaveLength(1);
      const cookie = lines[0].split(';')[0];
      expect(head.headers.vary).toMatch(/cookie/i);
      // The store work follows the flushed head; give it a moment, then check.
      await sleep(20);
      expect(await stored(store, idOf(cookie))).toEqual({ subscribed: route });
    },
  );

  it('a finite stream read whole with supertest carries the cookie', async () => {
    const res = await http(app).get('/sse/finite').buffer(true).expect(200);
    expect(res.text).toContain('data: one');
    expect(res.text).toContain('data: two');
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ subscribed: 'finite' });
  });

  it("the handler's own cookie and the session cookie are both on the event-stream head", async () => {
    const head = await headOnly(port, '/sse/own-cookie');
    const cookies = ([] as string[]).concat(head.headers['set-cookie'] ?? []);
    expect(cookies.some((c) => c.startsWith('other=1'))).toBe(true);
    expect(cookies.filter((c) => c.startsWith('sid='))).toHaveLength(1);
  });

  it('an existing session read by an event stream gets no cookie (fixed expiry) and is not rewritten', async () => {
    const seed = await http(app).get('/sse/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const head = await headOnly(port, '/sse/read-only', { Cookie: cookie });
    expect(head.status).toBe(200);
    expect(head.headers['set-cookie']).toBeUndefined();
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });
});
