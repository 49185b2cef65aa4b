/**
 * express-session's session API on the session object (SPEC §11.1): methods and `id`/`cookie`
 * that are never stored and never enumerable, shadowed by data keys of the same name.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, type SessionObject } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';

const store = new CountingStore();
const API = ['regenerate', 'save', 'destroy', 'reload', 'touch', 'id', 'cookie'];

@Controller()
class ApiController {
  @Get('shape') shape(@Session() session: SessionObject) {
    session.cart = ['apple'];
    return {
      keys: Object.keys(session),
      json: JSON.parse(JSON.stringify(session)),
      spread: Object.keys({ ...session }),
      forIn: (() => {
        const keys: string[] = [];
        for (const key in session) keys.push(key);
        return keys;
      })(),
      types: API.map((name) => typeof (session as Record<string, unknown>)[name]),
      id: session.id,
    };
  }

  /** Data keys named like the API are ordinary data: they shadow it and are saved. */
  @Post('shadow') @HttpCode(200) shadow(@Session() session: SessionObject & Record<string, unknown>) {
    (session as Record<string, unknown>).id = 'my-own-id-field';
    (session as Record<string, unknown>).save = 'saved as data';
    (session as Record<string, unknown>).cookie = { flavour: 'oatmeal' };
    return { keys: Object.keys(session).sort() };
  }

  @Get('peek') peek(@Session() session: SessionObject) {
    return { ...session };
  }

  /** save(cb) persists before the handler answers (Passport saves before it redirects). */
  @Post('save-cb') @HttpCode(200) async saveCb(@Session() session: SessionObject) {
    session.step = 'saved';
    await new Promise<void>((resolve, reject) => session.save((err) => (err ? reject(err) : resolve())));
    const stored = await readSessionData(store, session.id!);
    return { storedBeforeAnswer: stored };
  }

  /** Without a callback each method returns a promise. */
  @Post('regenerate') @HttpCode(200) async regenerate(@Session() session: SessionObject) {
    const before = session.id;
    const old = session;
    await session.regenerate();
    return { changed: before !== old.id, oldKeys: Object.keys(old) };
  }

  @Post('reload') @HttpCode(200) async reload(@Session() session: SessionObject, @Body('value') value: string) {
    session.note = value;
    await session.reload();
    return { note: session.note ?? null };
  }

  @Post('destroy-cb') @HttpCode(200) async destroy(@Session() session: SessionObject) {
    await new Promise<void>((resolve, reject) => session.destroy((err) => (err ? reject(err) : resolve())));
    return { keys: Object.keys(session) };
  }
}

@Module({
  imports: [SessionModule.forRoot({ secret: SECRET, store, logger: false, cookie: { secure: false } })],
  controllers: [ApiController],
})
class ApiModule {}

describe.each(PLATFORMS)('express-session API on the session object (%s)', (platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(ApiModule, platform);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => store.reset());

  it('the methods, id and cookie are there, never enumerable, never in JSON, spread, Object.keys or for…in, never stored', async () => {
    const res = await http(app).get('/shape').expect(200);
    expect(res.body.keys).toEqual(['cart']);
    expect(res.body.json).toEqual({ cart: ['apple'] });
    expect(res.body.spread).toEqual(['cart']);
    expect(res.body.forIn).toEqual(['cart']);
    expect(res.body.types).toEqual(['function', 'function', 'function', 'function', 'function', 'string', 'object']);
    const cookie = sessionCookie(res)!;
    expect(res.body.id).toBe(idOf(cookie));
    expect(await readSessionData(store, idOf(cookie)!)).toEqual({ cart: ['apple'] });
  });

  it('a data key named like the API is ordinary data: it shadows the method and is saved', async () => {
    const res = await http(app).post('/shadow').expect(200, { keys: ['cookie', 'id', 'save'] });
    const cookie = sessionCookie(res)!;
    await http(app).get('/peek').set('Cookie', cookie).expect(200, { id: 'my-own-id-field', save: 'saved as data', cookie: { flavour: 'oatmeal' } });
  });

  it('save(cb) calls back once the data is persisted; the response still sends the cookie, once', async () => {
    const res = await http(app).post('/save-cb').expect(200);
    expect(res.body.storedBeforeAnswer).toEqual({ step: 'saved' });
    expect(setCookies(res).filter((line) => line.startsWith('sid='))).toHaveLength(1);
    await http(app).get('/peek').set('Cookie', sessionCookie(res)!).expect(200, { step: 'saved' });
  });

  it('regenerate() (a promise without a callback): new ID, empty session, the old object keeps its keys, the old record goes', async () => {
    const first = sessionCookie(await http(app).get('/shape').expect(200))!;
    const res = await http(app).post('/regenerate').set('Cookie', first).expect(200, { changed: true, oldKeys: ['cart'] });
    // The new session is empty: no record, and the old cookie is cleared.
    expect(setCookies(res).find((line) => line.startsWith('sid='))).toMatch(/Max-Age=0/);
    expect(await store.read(idOf(first)!)).toBeNull();
  });

  it('reload() drops unsaved changes; destroy(cb) ends the session', async () => {
    const cookie = sessionCookie(await http(app).get('/shape').expect(200))!;
    await http(app).post('/reload').set('Cookie', cookie).send({ value: 'unsaved' }).expect(200, { note: null });
    await http(app).get('/peek').set('Cookie', cookie).expect(200, { cart: ['apple'] });
    const res = await http(app).post('/destroy-cb').set('Cookie', cookie).expect(200, { keys: [] });
    expect(setCookies(res).find((line) => line.startsWith('sid='))).toMatch(/Max-Age=0/);
    expect(await store.read(idOf(cookie)!)).toBeNull();
  });
});
