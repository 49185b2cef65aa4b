/**
 * The per-user session index scenarios (SPEC §6 "list, revoke, log out everywhere"), through a
 * real app, for any store that has the index: each store's spec runs them with its own stores.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, HttpCode, Module, Param, Post, Req, type INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  RegenerateSession,
  Session,
  SessionModule,
  SessionService,
  UseSessionAutoload,
  type SessionData,
  type SessionStore,
} from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, listen, sessionCookie, startApp, type Platform } from '../../support/session-app.js';
import { Gate, sleep } from '../concurrency/support.js';

const gates = { current: new Gate() };

@Controller()
class AccountController {
  constructor(private readonly sessions: SessionService) {}

  /** A login: some data, and the session bound to the user. */
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: unknown, @Session() session: SessionData, @Body('user') user: string) {
    session.user = user;
    await this.sessions.bindUser(req, user);
    return { ok: true };
  }
  /** A login that only binds (no other session data). */
  @Post('login-bare')
  @HttpCode(200)
  @UseSessionAutoload()
  async loginBare(@Req() req: unknown, @Body('user') user: string) {
    await this.sessions.bindUser(req, user);
    return { ok: true };
  }
  @Get('me') me(@Session() session: SessionData) {
    return { ...session };
  }
  /** Loads the session, parks until the test opens the gate, then sets `note2`. */
  @Post('slow-note')
  @HttpCode(200)
  async slowNote(@Session() session: SessionData, @Body('note') note: string) {
    await gates.current.pass();
    session.note2 = note;
    return { ok: true };
  }
  /** Loads the session, parks until the test opens the gate, then answers (read-only). */
  @Get('slow-me') async slowMe(@Session() session: SessionData) {
    await gates.current.pass();
    return { ...session };
  }
  @Post('note')
  @HttpCode(200)
  note(@Session() session: SessionData, @Body('note') note: string) {
    session.note = note;
    return { ok: true };
  }
  /** The requester's user's sessions. */
  @Get('sessions')
  @UseSessionAutoload()
  async list(@Req() req: unknown, @Session('user') user: string | undefined) {
    return this.sessions.listForUser(user ?? '', req);
  }
  /** Any user's sessions (an admin view): no request, so nothing is `current`. */
  @Get('users/:user/sessions') listOf(@Param('user') user: string) {
    return this.sessions.listForUser(user);
  }
  @Post('revoke/:handle')
  @HttpCode(200)
  async revoke(@Param('handle') handle: string) {
    return { revoked: await this.sessions.revoke(handle) };
  }
  @Post('logout-others')
  @HttpCode(200)
  @UseSessionAutoload()
  async logoutOthers(@Req() req: unknown, @Session('user') user: string) {
    return { revoked: await this.sessions.revokeAllForUser(user, { exceptCurrent: req }) };
  }
  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  /** A privilege change: new session ID after the handler. */
  @Post('elevate')
  @HttpCode(200)
  @RegenerateSession()
  elevate(@Session() session: SessionData) {
    session.elevated = true;
    return { ok: true };
  }
}

function appModule(store: SessionStore, options: { lifetime?: number; rolling?: boolean } = {}) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, ...options, cookie: { secure: false }, logger: false })],
    controllers: [AccountController],
  })
  class UserSessionsAppModule {}
  return UserSessionsAppModule;
}

interface Listed {
  handle: string;
  created: string;
  lastSeen: string;
  expiresAt: string;
  userAgent?: string;
  current: boolean;
}

export interface Stores {
  store: SessionStore;
  /** For the lifetime-1 app. */
  shortStore: SessionStore;
  /** For the rolling app. */
  rollingStore: SessionStore;
  stop(): Promise<void>;
}

export function userSessionScenarios(platform: Platform, connect: () => Promise<Stores>) {
  let app: INestApplication;
  /** lifetime: 1 s, on a store of the same kind. */
  let shortLived: INestApplication;
  /** rolling: true, on a store of the same kind. */
  let rolling: INestApplication;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const stores = await connect();
    stop = stores.stop;
    app = await startApp(appModule(stores.store), platform);
    shortLived = await startApp(appModule(stores.shortStore, { lifetime: 1 }), platform);
    rolling = await startApp(appModule(stores.rollingStore, { rolling: true }), platform);
    for (const a of [app, shortLived, rolling]) await listen(a);
  }, 60000);

  afterEach(() => gates.current.open());

  afterAll(async () => {
    await app?.close();
    await shortLived?.close();
    await rolling?.close();
    await stop?.();
  });

  const newUser = () => `user-${randomUUID()}`;

  async function login(user: string, agent: string, on: INestApplication = app): Promise<string> {
    const res = await http(on).post('/login').set('User-Agent', agent).send({ user }).expect(200);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    return cookie!;
  }
  const list = async (cookie: string, on: INestApplication = app) =>
    (await http(on).get('/sessions').set('Cookie', cookie).expect(200)).body as Listed[];
  const me = async (cookie: string) => (await http(app).get('/me').set('Cookie', cookie).expect(200)).body;

  it('three logins of one user: three entries with created/lastSeen/userAgent, `current` only for the requester, and no session ID anywhere', async () => {
    const user = newUser();
    const before = Date.now();
    const cookies = [await login(user, 'Agent/Laptop'), await login(user, 'Agent/Phone'), await login(user, 'Agent/Tablet')];
    const ids = cookies.map((c) => idOf(c)!);
    expect(new Set(ids).size).toBe(3);

    const fromPhone = await list(cookies[1]!);
    expect(fromPhone).toHaveLength(3);
    expect(fromPhone.map((s) => s.userAgent).sort()).toEqual(['Agent/Laptop', 'Agent/Phone', 'Agent/Tablet']);
    expect(fromPhone.filter((s) => s.current).map((s) => s.userAgent)).toEqual(['Agent/Phone']);
    for (const entry of fromPhone) {
      expect(Object.keys(entry).sort()).toEqual(['created', 'current', 'expiresAt', 'handle', 'lastSeen', 'userAgent']);
      expect(Date.parse(entry.created)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(entry.lastSeen)).toBeGreaterThanOrEqual(Date.parse(entry.created));
      expect(Date.parse(entry.expiresAt)).toBeGreaterThan(Date.now());
    }
    // Not a session ID in sight: not as a handle, not in any value.
    const text = JSON.stringify(fromPhone);
    for (const id of ids) expect(text).not.toContain(id);
    expect(fromPhone.map((s) => s.handle)).not.toEqual(expect.arrayContaining([expect.stringMatching(ids.join('|'))]));
    // Another requester sees the same handles, with its own `current`.
    const fromTablet = await list(cookies[2]!);
    expect(fromTablet.map((s) => s.handle).sort()).toEqual(fromPhone.map((s) => s.handle).sort());
    expect(fromTablet.filter((s) => s.current).map((s) => s.userAgent)).toEqual(['Agent/Tablet']);
    // Without a request nothing is current.
    const admin = (await http(app).get(`/users/${user}/sessions`).expect(200)).body as Listed[];
    expect(admin).toHaveLength(3);
    expect(admin.some((s) => s.current)).toBe(false);
    // Newest activity first.
    await http(app).post('/note').set('Cookie', cookies[0]!).send({ note: 'x' }).expect(200);
    expect((await list(cookies[0]!))[0]).toMatchObject({ userAgent: 'Agent/Laptop', current: true });
  });

  it('revoke(handle): that cookie is anonymous from its next request (fresh ID when it writes); the others still work', async () => {
    const user = newUser();
    const [laptop, phone, tablet] = [await login(user, 'Agent/Laptop'), await login(user, 'Agent/Phone'), await login(user, 'Agent/Tablet')];
    const phoneHandle = (await list(phone)).find((s) => s.current)!.handle;
    expect((await http(app).post(`/revoke/${phoneHandle}`).expect(200)).body).toEqual({ revoked: true });

    expect(await me(phone)).toEqual({});
    const write = await http(app).post('/note').set('Cookie', phone).send({ note: 'after revoke' }).expect(200);
    const fresh = sessionCookie(write);
    expect(fresh).toBeDefined();
    expect(idOf(fresh)).not.toBe(idOf(phone)); // the revoked ID is never adopted again
    expect(await me(fresh!)).toEqual({ note: 'after revoke' });

    expect(await me(laptop)).toMatchObject({ user });
    expect(await me(tablet)).toMatchObject({ user });
    const left = await list(laptop);
    expect(left.map((s) => s.userAgent).sort()).toEqual(['Agent/Laptop', 'Agent/Tablet']);
    expect(left.map((s) => s.handle)).not.toContain(phoneHandle);
    // A handle only works once.
    expect((await http(app).post(`/revoke/${phoneHandle}`).expect(200)).body).toEqual({ revoked: false });
  });

  it('revokeAllForUser(user, { exceptCurrent: req }): every other session is anonymous, the current one still works', async () => {
    const user = newUser();
    const other = newUser();
    const [laptop, phone, tablet] = [await login(user, 'Agent/Laptop'), await login(user, 'Agent/Phone'), await login(user, 'Agent/Tablet')];
    const stranger = await login(other, 'Agent/Other');
    expect((await http(app).post('/logout-others').set('Cookie', laptop).expect(200)).body).toEqual({ revoked: 2 });
    expect(await me(phone)).toEqual({});
    expect(await me(tablet)).toEqual({});
    expect(await me(laptop)).toMatchObject({ user });
    const left = await list(laptop);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ userAgent: 'Agent/Laptop', current: true });
    // Another user's session is untouched.
    expect(await me(stranger)).toMatchObject({ user: other });
    expect(await list(stranger)).toHaveLength(1);
  });

  it('a destroyed (logout) session disappears from the listing', async () => {
    const user = newUser();
    const laptop = await login(user, 'Agent/Laptop');
    const phone = await login(user, 'Agent/Phone');
    const phoneHandle = (await list(phone)).find((s) => s.current)!.handle;
    await http(app).post('/logout').set('Cookie', phone).expect(200);
    const left = await list(laptop);
    expect(left.map((s) => s.handle)).not.toContain(phoneHandle);
    expect(left.map((s) => s.userAgent)).toEqual(['Agent/Laptop']);
  });

  it('an expired session disappears from the listing (lifetime 1 s)', async () => {
    const user = newUser();
    await login(user, 'Agent/Old', shortLived);
    const listed = async () => ((await http(shortLived).get(`/users/${user}/sessions`).expect(200)).body as Listed[]).map((s) => s.userAgent);
    expect(await listed()).toEqual(['Agent/Old']);
    await sleep(600);
    await login(user, 'Agent/New', shortLived);
    expect((await listed()).sort()).toEqual(['Agent/New', 'Agent/Old']);
    await sleep(650); // Old is 1.25 s old: expired; New 0.65 s: alive
    expect(await listed()).toEqual(['Agent/New']);
    await sleep(600);
    expect(await listed()).toEqual([]);
  });

  it('regenerate after bindUser keeps the binding; the listing shows the new session, not the old one', async () => {
    const user = newUser();
    const cookie = await login(user, 'Agent/Laptop');
    const [before] = await list(cookie);
    const res = await http(app).post('/elevate').set('Cookie', cookie).expect(200);
    const regenerated = sessionCookie(res);
    expect(idOf(regenerated)).toBeDefined();
    expect(idOf(regenerated)).not.toBe(idOf(cookie));
    const after = await list(regenerated!);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ userAgent: 'Agent/Laptop', current: true });
    expect(after[0]!.handle).not.toBe(before!.handle);
    expect(await me(regenerated!)).toEqual({ user, elevated: true });
    expect(await me(cookie)).toEqual({}); // the old ID is gone
    // Still bound: "log out everywhere" from another device reaches the regenerated session.
    const phone = await login(user, 'Agent/Phone');
    expect((await http(app).post('/logout-others').set('Cookie', phone).expect(200)).body).toEqual({ revoked: 1 });
    expect(await me(regenerated!)).toEqual({});
  });

  it('rolling: a request in flight while its session is revoked does not bring the session back into the listing', async () => {
    const user = newUser();
    const laptop = await login(user, 'Agent/Laptop', rolling);
    const phone = await login(user, 'Agent/Phone', rolling);
    const phoneHandle = (await list(phone, rolling)).find((s) => s.current)!.handle;
    gates.current = new Gate();
    const inFlight = http(rolling).get('/slow-me').set('Cookie', phone).then((r) => r); // loaded before the revoke
    await gates.current.arrived;
    expect((await http(rolling).post(`/revoke/${phoneHandle}`).expect(200)).body).toEqual({ revoked: true });
    gates.current.open(); // its commit now refreshes (touches) a session that no longer exists
    expect((await inFlight).status).toBe(200);
    expect((await http(rolling).get('/me').set('Cookie', phone).expect(200)).body).toEqual({});
    const listed = await list(laptop, rolling);
    expect(listed.map((s) => s.userAgent)).toEqual(['Agent/Laptop']);
    expect(listed.map((s) => s.handle)).not.toContain(phoneHandle);
    // And "log out everywhere else" counts only real sessions.
    expect((await http(rolling).post('/logout-others').set('Cookie', laptop).expect(200)).body).toEqual({ revoked: 0 });
  });

  it('a login (bindUser) while a slower request of the same session is in flight stays bound after that request commits', async () => {
    const user = newUser();
    // An anonymous visitor's session with some data (say, a cart).
    const cookie = sessionCookie(await http(app).post('/note').send({ note: 'cart' }).expect(200))!;
    gates.current = new Gate();
    const slow = http(app).post('/slow-note').set('Cookie', cookie).send({ note: 'slow' }).then((r) => r); // loaded before the login
    await gates.current.arrived;
    const loggedIn = await http(app).post('/login').set('Cookie', cookie).set('User-Agent', 'Agent/Laptop').send({ user }).expect(200);
    const current = sessionCookie(loggedIn) ?? cookie;
    gates.current.open(); // commits its own key `note2`, having never seen the binding
    expect((await slow).status).toBe(200);
    expect(await me(current)).toEqual({ note: 'cart', user, note2: 'slow' });
    // Still bound: a privilege change (regenerate) carries the binding to the new ID, so the
    // session is listed and "log out everywhere" from another device reaches it.
    const elevated = sessionCookie(await http(app).post('/elevate').set('Cookie', current).expect(200))!;
    expect(idOf(elevated)).not.toBe(idOf(current));
    const listed = await list(elevated);
    expect(listed.map((s) => [s.userAgent, s.current])).toEqual([['Agent/Laptop', true]]);
    const phone = await login(user, 'Agent/Phone');
    expect((await http(app).post('/logout-others').set('Cookie', phone).expect(200)).body).toEqual({ revoked: 1 });
    expect(await me(elevated)).toEqual({});
  });

  it('a session with nothing but the user binding is still a session: saved, cookie sent, listed', async () => {
    const user = newUser();
    const res = await http(app).post('/login-bare').set('User-Agent', 'Agent/Bare').send({ user }).expect(200);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    const listed = (await http(app).get(`/users/${user}/sessions`).expect(200)).body as Listed[];
    expect(listed.map((s) => s.userAgent)).toEqual(['Agent/Bare']);
  });
}
