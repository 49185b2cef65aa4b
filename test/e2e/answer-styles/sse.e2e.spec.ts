import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Res, Sse, type INestApplication, type MessageEvent } from '@nestjs/common';
import { interval, map, of, type Observable } from 'rxjs';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, sleep, startApp } from '../../support/session-app.js';
import { headOnly, listen, sidLines, stored } from '../commit-rules/fixtures.js';

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
  /** Async setup: Nest flushes the event-stream head on a timer, before this handler resumes. */
  @Sse('async-setup') async asyncSetup(@Session() session: SessionData): Promise<Observable<MessageEvent>> {
    await sleep(30);
    session.subscribed = 'async-setup';
    return interval(20).pipe(map((i) => ({ data: { i } })));
  }
  @Sse('finite') finite(@Session() session: SessionData): Observable<MessageEvent> {
    session.subscribed = 'finite';
    return of({ data: 'one' }, { data: 'two' });
  }
  @Sse('own-cookie') ownCookie(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown): Observable<MessageEvent> {
    platformResponse(res).cookie('other', '1');
    session.subscribed = 'own-cookie';
    return interval(20).pipe(map((i) => ({ data: { i } })));
  }
  @Sse('read-only') readOnly(@Session('user') user: unknown): Observable<MessageEvent> {
    return interval(20).pipe(map(() => ({ data: { user } })));
  }
}

function fixture() {
  const store = new MemoryStore();
  const logger = new RecordingLogger();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger })],
    controllers: [EventsController],
  })
  class EventsAppModule {}
  return { store, logger, EventsAppModule };
}

describe.each(PLATFORMS)('answer styles: @Sse() (%s)', (platform) => {
  const { store, logger, EventsAppModule } = fixture();
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    app = await startApp(EventsAppModule, platform);
    port = await listen(app);
  });
  afterAll(async () => {
    app.getHttpServer().closeAllConnections?.();
    await app.close();
    store.close();
  });

  it('the cookie is on the event-stream head of a stream that never ends; the data persisted', async () => {
    const route = 'live';
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
  });

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

  // Regression guard: when the head is flushed before the handler changed the session (an async
  // @Sse() handler; Nest 12 writes the event-stream head on a timer right after subscribing), the
  // flush-time commit has nothing to do, and the interceptor's later commit must still save the
  // change (SessionCommitter.afterFlush). For an existing session no header is needed at all
  // (same id, fixed expiry), so losing the change would be silent. SPEC §4: "not dropped silently".
  it('an async @Sse() handler that changes an existing session after the head was sent still saves it', async () => {
    const seed = await http(app).get('/sse/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    // Stay connected until the stream has produced an event: the handler has run by then.
    const head = await headOnly(port, '/sse/async-setup', { Cookie: cookie }, /data:/);
    expect(head.status).toBe(200);
    await sleep(30);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada', subscribed: 'async-setup' });
  });

  it('a new session changed after the event-stream head was sent is not dropped silently', async () => {
    logger.calls.length = 0;
    const head = await headOnly(port, '/sse/async-setup', {}, /data:/);
    expect(head.status).toBe(200);
    await sleep(30);
    // No cookie can be added to a head already sent; the loss must at least be reported.
    expect(logger.calls.filter((c) => c.level === 'warn' || c.level === 'error')).not.toHaveLength(0);
  });
});
