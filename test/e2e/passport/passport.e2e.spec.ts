/**
 * Passport 0.7 through @nestjs/passport, with the real libraries, in both styles: eager (the
 * docs' `app.use(passport.session())`, after `sessionMiddleware(app)`) and lazy
 * (`PassportSessionGuard` on the routes that log in or need `req.user`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import passport from 'passport';
import { sessionMiddleware } from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { PLATFORMS, createPlatformApp, http, idOf, initApp, sessionCookie, setCookies, type Platform } from '../../support/session-app.js';
import { passportApp, resetUsers, users, type PassportMode } from './passport-fixture.js';

async function start(mode: PassportMode, platform: Platform, store: CountingStore): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [passportApp(mode, store)] }).compile();
  const app = createPlatformApp(moduleRef, platform);
  if (mode === 'eager') {
    app.use(sessionMiddleware(app));
    app.use(passport.session());
  }
  return initApp(app);
}

const form = (username: string, password: string, extra: Record<string, string> = {}) => ({ username, password, ...extra });

// Eager mode is Express only: on Fastify, middleware sees the raw Node request, so
// passport.session() and the session live there, not on the FastifyRequest that guards and
// handlers get (login answers 500: "Login sessions require session support"). The lazy guard
// works on both (README, Passport).
const CASES: [PassportMode, Platform][] = [
  ['eager', 'express'],
  ['lazy', 'express'],
  ['lazy', 'fastify'],
];

describe.each(CASES)('Passport, %s mode (%s)', (mode, platform) => {
  const store = new CountingStore();
  let app: INestApplication;
  beforeAll(async () => {
    app = await start(mode, platform, store);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    resetUsers();
    store.reset();
  });

  function login(cookie?: string, extra: Record<string, string> = {}) {
    const req = http(app).post('/login').type('form').send(form('ada', 'secret', extra));
    if (cookie) req.set('Cookie', cookie);
    return req;
  }

  it('login regenerates the ID: the pre-login cookie is anonymous afterwards; keepSessionInfo keeps returnTo', async () => {
    const before = sessionCookie(await http(app).get('/visit').expect(200))!;
    const res = await login(before).expect(200);
    expect(res.body).toEqual({ user: { id: 'u1', name: 'ada' }, returnTo: '/checkout' });
    const after = sessionCookie(res)!;
    expect(idOf(after)).not.toBe(idOf(before));
    await http(app).get('/me').set('Cookie', after).expect(200, { user: { id: 'u1', name: 'ada' } });
    await http(app).get('/me').set('Cookie', before).expect(403);
    // One Set-Cookie for the session: saved early by Passport, sent once.
    expect(setCookies(res).filter((c) => c.startsWith('sid='))).toHaveLength(1);
  });

  it('req.user is restored on later requests; a wrong password is 401 and creates no session', async () => {
    const cookie = sessionCookie(await login().expect(200))!;
    await http(app).get('/me').set('Cookie', cookie).expect(200, { user: { id: 'u1', name: 'ada' } });
    await http(app).get('/whoami').set('Cookie', cookie).expect(200, { user: { id: 'u1', name: 'ada' } });
    store.reset();
    const wrong = await http(app).post('/login').type('form').send(form('ada', 'nope')).expect(401);
    expect(sessionCookie(wrong)).toBeUndefined();
    expect(store.calls.write).toBe(0);
  });

  it('req.logout(cb) clears the login: the record is removed and the cookie cleared', async () => {
    const cookie = sessionCookie(await login().expect(200))!;
    const res = await http(app).post('/logout').set('Cookie', cookie).expect(200);
    expect(setCookies(res).find((c) => c.startsWith('sid='))).toMatch(/Max-Age=0/);
    await http(app).get('/me').set('Cookie', cookie).expect(403);
    expect(await store.read(idOf(cookie)!)).toBeNull();
  });

  it('a deleted user (deserializer returns false) is logged out', async () => {
    const cookie = sessionCookie(await login().expect(200))!;
    users.delete('u1');
    await http(app).get('/me').set('Cookie', cookie).expect(403);
    await http(app).get('/whoami').set('Cookie', cookie).expect(200, { user: null });
  });

  it('remember me: session.cookie.maxAge set at login gives the cookie that Max-Age, kept on later requests', async () => {
    const plain = sessionCookie(await login().expect(200));
    const plainLine = setCookiesOf(await login().expect(200));
    expect(plainLine).toMatch(/Max-Age=1209600/);
    expect(plain).toBeDefined();
    const res = await login(undefined, { remember: 'on' }).expect(200);
    expect(setCookiesOf(res)).toMatch(/Max-Age=2592000/);
  });

  if (mode === 'lazy') {
    it('routes that neither authenticate nor read req.user make no store call', async () => {
      const cookie = sessionCookie(await login().expect(200))!;
      store.reset();
      const res = await http(app).get('/public').set('Cookie', cookie).expect(200);
      expect(store.total()).toBe(0);
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  }
});

function setCookiesOf(res: { headers: Record<string, unknown> }): string {
  return setCookies(res).find((c) => c.startsWith('sid=')) ?? '';
}
