/**
 * Issue 4, lifecycle events (SPEC §6): a provider with `@OnSessionEvent()` methods and one that
 * calls `SessionEvents.subscribe` both receive created, regenerated, destroyed, expired and
 * revoked, each once, with a `ref` that is not the session ID and the `userId` when bound. A
 * listener that throws never breaks the request, and is logged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, HttpCode, Injectable, Module, Param, Post, Req, type INestApplication, type OnModuleInit } from '@nestjs/common';
import {
  MemoryStore,
  OnSessionEvent,
  RegenerateSession,
  Session,
  SessionEvents,
  SessionModule,
  SessionService,
  UseSessionAutoload,
  type SessionData,
  type SessionEvent,
  type SessionStore,
} from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, sleep, startApp } from '../../support/session-app.js';
import { PlainStore } from '../concurrency/support.js';

/** Listens through the decorator: one method for everything, one for two types only. */
@Injectable()
class DecoratedListener {
  readonly all: SessionEvent[] = [];
  readonly endings: SessionEvent[] = [];
  @OnSessionEvent()
  onAny(event: SessionEvent) {
    this.all.push(event);
  }
  @OnSessionEvent('destroyed', 'revoked')
  onEnding(event: SessionEvent) {
    this.endings.push(event);
  }
}

/** Listens through the service. */
@Injectable()
class SubscribedListener implements OnModuleInit {
  readonly all: SessionEvent[] = [];
  constructor(private readonly events: SessionEvents) {}
  onModuleInit() {
    this.events.subscribe((event) => void this.all.push(event));
  }
}

@Controller()
class EventsController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login')
  @HttpCode(200)
  async login(@Req() req: unknown, @Session() session: SessionData, @Body('user') user: string) {
    session.user = user;
    await this.sessions.bindUser(req, user);
    return { ok: true };
  }
  /** A session without a user. */
  @Post('visit')
  @HttpCode(200)
  visit(@Session() session: SessionData) {
    session.visits = ((session.visits as number | undefined) ?? 0) + 1;
    return { ok: true };
  }
  @Post('elevate')
  @HttpCode(200)
  @RegenerateSession()
  elevate(@Session() session: SessionData) {
    session.elevated = true;
    return { ok: true };
  }
  /** Logout on a route that loads the session. */
  @Post('logout')
  @HttpCode(200)
  @UseSessionAutoload()
  async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  /** Logout on a route that never reads the session (destroy works unloaded). */
  @Post('logout-unloaded')
  @HttpCode(200)
  async logoutUnloaded(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  @Get('me') me(@Session() session: SessionData) {
    return { ...session };
  }
  @Get('sessions/:user') list(@Req() req: unknown, @Param('user') user: string) {
    return this.sessions.listForUser(user, req);
  }
  @Post('revoke/:handle')
  @HttpCode(200)
  async revoke(@Param('handle') handle: string) {
    return { revoked: await this.sessions.revoke(handle) };
  }
}

function appModule(store: SessionStore, logger: RecordingLogger, options: { lifetime?: number } = {}, extra: unknown[] = []) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, ...options, cookie: { secure: false }, logger })],
    controllers: [EventsController],
    providers: [DecoratedListener, SubscribedListener, ...(extra as never[])],
  })
  class EventsAppModule {}
  return EventsAppModule;
}

/** Both listeners' events, checked to agree, as `[type, ref, userId]`. */
function received(app: INestApplication): [string, string, string | undefined][] {
  const decorated = app.get(DecoratedListener).all;
  const subscribed = app.get(SubscribedListener).all;
  const rows = (events: SessionEvent[]) => events.map((e) => [e.type, e.ref, e.userId] as [string, string, string | undefined]);
  expect(rows(subscribed)).toEqual(rows(decorated));
  for (const e of decorated) expect(e.at).toBeInstanceOf(Date);
  return rows(decorated);
}

function clear(app: INestApplication): void {
  app.get(DecoratedListener).all.length = 0;
  app.get(DecoratedListener).endings.length = 0;
  app.get(SubscribedListener).all.length = 0;
}

/** A ref names a session without being (or containing, or being part of) its ID. */
function expectRefNotId(ref: string, id: string | undefined): void {
  expect(id).toBeDefined();
  expect(ref).toEqual(expect.any(String));
  expect(ref.length).toBeGreaterThan(0);
  expect(ref).not.toBe(id);
  expect(id!.includes(ref)).toBe(false);
  expect(ref.includes(id!)).toBe(false);
}

describe.each(PLATFORMS)('session lifecycle events (MemoryStore) (%s)', (platform) => {
  let app: INestApplication;
  const store = new MemoryStore();
  const logger = new RecordingLogger();

  beforeAll(async () => {
    app = await startApp(appModule(store, logger), platform);
  });
  afterAll(async () => {
    await app?.close();
    store.close();
  });
  beforeEach(() => clear(app));

  it('login → created, @RegenerateSession → regenerated, logout → destroyed: each once, with ref and userId', async () => {
    const login = await http(app).post('/login').send({ user: 'u1' }).expect(200);
    const first = sessionCookie(login)!;
    let events = received(app);
    expect(events.map(([type, , user]) => [type, user])).toEqual([['created', 'u1']]);
    const createdRef = events[0]![1];
    expectRefNotId(createdRef, idOf(first));

    // Reading and changing data are no lifecycle events.
    await http(app).get('/me').set('Cookie', first).expect(200);
    await http(app).post('/visit').set('Cookie', first).expect(200);
    expect(received(app)).toHaveLength(1);

    const elevated = sessionCookie(await http(app).post('/elevate').set('Cookie', first).expect(200))!;
    expect(idOf(elevated)).not.toBe(idOf(first));
    events = received(app);
    expect(events.map(([type, , user]) => [type, user])).toEqual([['created', 'u1'], ['regenerated', 'u1']]);
    const regeneratedRef = events[1]![1];
    expectRefNotId(regeneratedRef, idOf(elevated));
    expect(regeneratedRef).not.toBe(createdRef); // a new ID, a new ref

    await http(app).post('/logout').set('Cookie', elevated).expect(200);
    events = received(app);
    expect(events.map(([type, , user]) => [type, user])).toEqual([['created', 'u1'], ['regenerated', 'u1'], ['destroyed', 'u1']]);
    expect(events[2]![1]).toBe(regeneratedRef); // the same session, the same ref
    expect(app.get(DecoratedListener).endings.map((e) => e.type)).toEqual(['destroyed']);

    // The log lines carry the same refs, never the IDs.
    const logged = logger.messages().join('\n');
    for (const id of [idOf(first)!, idOf(elevated)!]) expect(logged).not.toContain(id);
    expect(logged).toContain(createdRef);
  });

  it('a session with no user: created without userId', async () => {
    await http(app).post('/visit').expect(200);
    const events = received(app);
    expect(events).toHaveLength(1);
    expect(events[0]![0]).toBe('created');
    expect(events[0]![2]).toBeUndefined();
  });

  it('a logout on a route that never loaded the session still reports destroyed once, with the userId', async () => {
    const cookie = sessionCookie(await http(app).post('/login').send({ user: 'u-unloaded' }).expect(200))!;
    const createdRef = received(app)[0]![1];
    clear(app);
    await http(app).post('/logout-unloaded').set('Cookie', cookie).expect(200);
    expect(received(app)).toEqual([['destroyed', createdRef, 'u-unloaded']]);
  });

  it('revoke(handle) → revoked once, with the session’s ref and userId; its next request emits nothing more', async () => {
    const cookie = sessionCookie(await http(app).post('/login').send({ user: 'u2' }).expect(200))!;
    const createdRef = received(app)[0]![1];
    const [listed] = (await http(app).get('/sessions/u2').set('Cookie', cookie).expect(200)).body as { handle: string }[];
    clear(app);
    expect((await http(app).post(`/revoke/${listed!.handle}`).expect(200)).body).toEqual({ revoked: true });
    expect(received(app)).toEqual([['revoked', createdRef, 'u2']]);
    expect(app.get(DecoratedListener).endings.map((e) => e.type)).toEqual(['revoked']);
    expect((await http(app).get('/me').set('Cookie', cookie).expect(200)).body).toEqual({});
    expect(received(app)).toHaveLength(1);
  });

  it('a new session logging in on a @RegenerateSession route: one event for it (there was no session to regenerate)', async () => {
    // The README puts @RegenerateSession() on the login route; a first visit may arrive there cookieless.
    await http(app).post('/elevate').expect(200);
    const types = received(app).map(([type]) => type);
    expect(types).toHaveLength(1);
    expect(types[0]).toBe('created');
  });
});

/**
 * expired: lifetime 1 s, a request after 1.2 s. On a store that drops records at their TTL
 * (MemoryStore) and on a custom store that ignores TTLs (the module finds the expired record).
 */
describe.each(PLATFORMS)('expired event (%s)', (platform) => {
  for (const [label, makeStore] of [
    ['MemoryStore', () => new MemoryStore()],
    ['custom read/write/remove store that ignores TTLs', () => new PlainStore()],
  ] as [string, () => SessionStore][]) {
    describe(`expired event (${label}, lifetime 1 s)`, () => {
      let app: INestApplication;
      const store = makeStore();
      const logger = new RecordingLogger();

      beforeAll(async () => {
        app = await startApp(appModule(store, logger, { lifetime: 1 }), platform);
      });
      afterAll(async () => {
        await app?.close();
        if (store instanceof MemoryStore) store.close();
      });

      it('a request after expiry → expired once (when the store kept the record), with the session’s ref and userId; the request gets an empty session', async () => {
        const cookie = sessionCookie(await http(app).post('/login').send({ user: 'u3' }).expect(200))!;
        const createdRef = received(app)[0]![1];
        clear(app);
        await sleep(1200);
        expect((await http(app).get('/me').set('Cookie', cookie).expect(200)).body).toEqual({});
        if (store instanceof MemoryStore) {
          // A store that drops records at their TTL leaves nothing to detect: an expired session
          // then looks like an unknown ID, and no event fires (README: Lifecycle events).
          expect(received(app)).toEqual([]);
          return;
        }
        expect(received(app)).toEqual([['expired', createdRef, 'u3']]);
        expectRefNotId(createdRef, idOf(cookie));
        // Once: the next request with the same cookie finds nothing left to expire.
        await http(app).get('/me').set('Cookie', cookie).expect(200);
        expect(received(app)).toHaveLength(1);
      });
    });
  }
});

@Injectable()
class ThrowingListener {
  @OnSessionEvent('created')
  explode() {
    throw new Error('sync listener exploded');
  }
  @OnSessionEvent('created')
  async reject() {
    await sleep(1);
    throw new Error('async listener exploded');
  }
}

@Injectable()
class ThrowingSubscriber implements OnModuleInit {
  constructor(private readonly events: SessionEvents) {}
  onModuleInit() {
    this.events.subscribe(() => {
      throw new Error('subscribed listener exploded');
    }, 'created');
  }
}

describe.each(PLATFORMS)('a listener that throws (%s)', (platform) => {
  let app: INestApplication;
  const store = new MemoryStore();
  const logger = new RecordingLogger();

  beforeAll(async () => {
    app = await startApp(appModule(store, logger, {}, [ThrowingListener, ThrowingSubscriber]), platform);
  });
  afterAll(async () => {
    await app?.close();
    store.close();
  });

  it('does not break the request (2xx, cookie, session saved), the other listeners still get the event, and the failure is logged', async () => {
    const res = await http(app).post('/login').send({ user: 'u4' }).expect(200);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect((await http(app).get('/me').set('Cookie', cookie!).expect(200)).body).toEqual({ user: 'u4' });
    expect(received(app).map(([type, , user]) => [type, user])).toEqual([['created', 'u4']]);
    await sleep(50); // the async listener's rejection arrives later
    const errors = logger.messages('error').join('\n');
    expect(errors).toContain('sync listener exploded');
    expect(errors).toContain('async listener exploded');
    expect(errors).toContain('subscribed listener exploded');
    expect(errors).toMatch(/"created"/);
    expect(errors).not.toContain(idOf(cookie)!);
  });
});
