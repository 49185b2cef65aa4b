/**
 * Issue 4, flash messages (SPEC §6): a message flashed by one request is readable by the next
 * one only; `keepFlash` keeps it one more request; a flash alone creates the session; messages
 * live beside the session data, never inside it. Run on a MemoryStore (field records) and on a
 * custom read/write/remove store (whole-record blobs).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Module, Post, Query, Redirect, Req, type INestApplication } from '@nestjs/common';
import { MemoryStore, Session, SessionModule, SessionService, UseSessionAutoload, type SessionData, type SessionStore } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp, type Platform } from '../../support/session-app.js';
import { Gate, PlainStore } from '../concurrency/support.js';

const gates = { current: new Gate() };

@Controller()
@UseSessionAutoload()
class FlashController {
  constructor(private readonly sessions: SessionService) {}

  /** Post/Redirect/Get: flash, then redirect to the page that shows it. */
  @Post('save')
  @Redirect('/show', 303)
  save(@Req() req: unknown) {
    this.sessions.flash(req, 'notice', 'Saved');
  }
  @Post('save-many')
  @HttpCode(204)
  saveMany(@Req() req: unknown) {
    this.sessions.flash(req, 'notice', 'First');
    this.sessions.flash(req, 'notice', 'Second');
    this.sessions.flash(req, 'error', { code: 'E1', text: 'Structured' });
  }
  @Get('show') show(@Req() req: unknown) {
    return { notice: this.sessions.flashes(req, 'notice') };
  }
  @Get('show-all') showAll(@Req() req: unknown) {
    return this.sessions.flashes(req);
  }
  /** Shows the messages and keeps them (one type, or all) for one more request. */
  @Get('show-keep') showKeep(@Req() req: unknown, @Query('type') type?: string) {
    const all = this.sessions.flashes(req);
    this.sessions.keepFlash(req, type);
    return all;
  }
  @Get('data') data(@Session() session: SessionData) {
    return { keys: Object.keys(session), session: { ...session } };
  }
  @Post('login')
  @HttpCode(204)
  login(@Session() session: SessionData) {
    session.user = 'ada';
  }
  /** Loads the session, parks until the test opens the gate, then changes another key. */
  @Post('slow-note')
  @HttpCode(204)
  async slowNote(@Session() session: SessionData) {
    await gates.current.pass();
    session.note = 'from a slow request';
  }
}

function appModule(store: SessionStore) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [FlashController],
  })
  class FlashAppModule {}
  return FlashAppModule;
}

function flashScenarios(platform: Platform, label: string, makeStore: () => SessionStore, fieldRecords: boolean) {
  describe(`flash messages (${label})`, () => {
    let app: INestApplication;
    const store = makeStore();

    beforeAll(async () => {
      app = await startApp(appModule(store), platform);
    });
    afterEach(() => gates.current.open());
    afterAll(async () => {
      await app?.close();
      if (store instanceof MemoryStore) store.close();
    });

    /** A session with some data, and its cookie. */
    async function loggedIn(): Promise<string> {
      const cookie = sessionCookie(await http(app).post('/login').expect(204));
      expect(cookie).toBeDefined();
      return cookie!;
    }

    it('POST /save flashes and redirects; the next GET sees the message, the GET after that does not', async () => {
      const cookie = await loggedIn();
      const saved = await http(app).post('/save').set('Cookie', cookie).expect(303);
      expect(saved.headers.location).toBe('/show');
      expect((await http(app).get('/show').set('Cookie', cookie).expect(200)).body).toEqual({ notice: ['Saved'] });
      expect((await http(app).get('/show').set('Cookie', cookie).expect(200)).body).toEqual({ notice: [] });
      expect((await http(app).get('/show').set('Cookie', cookie).expect(200)).body).toEqual({ notice: [] });
      // The session itself lives on.
      expect((await http(app).get('/data').set('Cookie', cookie).expect(200)).body.session).toEqual({ user: 'ada' });
    });

    it('several messages of several types, in order; flashes(req) gives them all by type', async () => {
      const cookie = await loggedIn();
      await http(app).post('/save-many').set('Cookie', cookie).expect(204);
      expect((await http(app).get('/show-all').set('Cookie', cookie).expect(200)).body).toEqual({
        notice: ['First', 'Second'],
        error: [{ code: 'E1', text: 'Structured' }],
      });
      expect((await http(app).get('/show-all').set('Cookie', cookie).expect(200)).body).toEqual({});
    });

    it('keepFlash(req) keeps the messages for exactly one more request', async () => {
      const cookie = await loggedIn();
      await http(app).post('/save').set('Cookie', cookie).expect(303);
      expect((await http(app).get('/show-keep').set('Cookie', cookie).expect(200)).body).toEqual({ notice: ['Saved'] });
      expect((await http(app).get('/show').set('Cookie', cookie).expect(200)).body).toEqual({ notice: ['Saved'] });
      expect((await http(app).get('/show').set('Cookie', cookie).expect(200)).body).toEqual({ notice: [] });
    });

    it('keepFlash(req, type) keeps only that type', async () => {
      const cookie = await loggedIn();
      await http(app).post('/save-many').set('Cookie', cookie).expect(204);
      await http(app).get('/show-keep?type=error').set('Cookie', cookie).expect(200);
      expect((await http(app).get('/show-all').set('Cookie', cookie).expect(200)).body).toEqual({
        error: [{ code: 'E1', text: 'Structured' }],
      });
    });

    it('a flash on a new session creates it (cookie) even with no other data', async () => {
      const saved = await http(app).post('/save').expect(303);
      const cookie = sessionCookie(saved);
      expect(cookie).toBeDefined();
      expect((await http(app).get('/show').set('Cookie', cookie!).expect(200)).body).toEqual({ notice: ['Saved'] });
    });

    // Whole-record stores are last-writer-wins by design: only field records promise this.
    (fieldRecords ? it : it.skip)('a flash saved while a slower request of the session is in flight survives that request (field records merge)', async () => {
      const cookie = await loggedIn();
      gates.current = new Gate();
      const slow = http(app).post('/slow-note').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived; // loaded before the flash exists
      await http(app).post('/save').set('Cookie', cookie).expect(303);
      gates.current.open(); // commits its own key `note`
      expect((await slow).status).toBe(204);
      expect((await http(app).get('/show').set('Cookie', cookie).expect(200)).body).toEqual({ notice: ['Saved'] });
      expect(await readSessionData(store, idOf(cookie)!)).toEqual({ user: 'ada', note: 'from a slow request' });
    });

    it('flash messages are not in the session data: not under @Session(), not in what the store decodes as data', async () => {
      const cookie = await loggedIn();
      await http(app).post('/save').set('Cookie', cookie).expect(303);
      const stored = await readSessionData(store, idOf(cookie)!);
      expect(stored).toEqual({ user: 'ada' });
      // Reading @Session() in the request that receives the flash: only the user's keys.
      const { body } = await http(app).get('/data').set('Cookie', cookie).expect(200);
      expect(body).toEqual({ keys: ['user'], session: { user: 'ada' } });

      // A session holding nothing but a flash: @Session() is empty.
      const bare = sessionCookie(await http(app).post('/save').expect(303))!;
      expect(await readSessionData(store, idOf(bare)!)).toEqual({});
      expect((await http(app).get('/data').set('Cookie', bare).expect(200)).body).toEqual({ keys: [], session: {} });
    });
  });
}

describe.each(PLATFORMS)('flash (%s)', (platform) => {
  flashScenarios(platform, 'MemoryStore, field records', () => new MemoryStore(), true);
  flashScenarios(platform, 'custom read/write/remove store, whole-record blobs', () => new PlainStore(), false);
});
