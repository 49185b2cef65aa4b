/**
 * The sample's page logs in through Passport (PassportSessionGuard + a strategy + `logIn()`),
 * with a "remember me" checkbox that gives the session 30 days instead of the app's lifetime.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { AppModule } from '../../../sample/app.module.js';
import { PLATFORMS, http, idOf, sessionCookie, setCookies, startApp, type Platform } from '../../support/session-app.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const formToken = (html: string) => /<form[^>]*action="\/login"[^>]*>[\s\S]*?name="_csrf" value="([^"]+)"/.exec(html)![1]!;
const sidLine = (res: { headers: Record<string, unknown> }) => setCookies(res).find((line) => line.startsWith('sid=')) ?? '';

describe.each(PLATFORMS)('sample app: Passport login and remember me (%s)', (platform: Platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    delete process.env.REDIS_URL;
    delete process.env.SESSION_STORE_KIND;
    app = await startApp(AppModule, platform);
  });
  afterAll(async () => {
    await app.close();
  });

  async function login(remember: boolean) {
    const page = await http(app).get('/').expect(200);
    const cookie = sessionCookie(page)!;
    expect(page.text).toContain('name="remember"');
    const form: Record<string, string> = { username: 'Ada', _csrf: formToken(page.text) };
    if (remember) form.remember = 'on';
    const res = await http(app).post('/login').set('Cookie', cookie).type('form').send(form).expect(303);
    return { before: cookie, res, after: sessionCookie(res)! };
  }

  it('a login regenerates the ID and keeps the visit counter; remember me off: the app lifetime', async () => {
    const { before, res, after } = await login(false);
    expect(idOf(after)).not.toBe(idOf(before));
    expect(sidLine(res)).toMatch(/Max-Age=1209600/);
    const home = await http(app).get('/').set('Cookie', after).expect(200);
    expect(home.text).toContain('<strong id="username">Ada</strong>');
    expect(home.text).toMatch(/visit/i);
  });

  it('remember me on: the cookie lives 30 days, and later responses keep that lifetime', async () => {
    const { res, after } = await login(true);
    expect(sidLine(res)).toMatch(/Max-Age=2592000/);
    // The page counts a visit (a change): its cookie still has (about) 30 days.
    const home = await http(app).get('/').set('Cookie', after).expect(200);
    const maxAge = Number(/Max-Age=(\d+)/.exec(sidLine(home))?.[1]);
    expect(maxAge).toBeGreaterThan(2_591_000);
  });

  it('an empty name is refused (400) without logging in', async () => {
    const page = await http(app).get('/').expect(200);
    const res = await http(app).post('/login').set('Cookie', sessionCookie(page)!).type('form').send({ username: '   ', _csrf: formToken(page.text) });
    expect(res.status).toBe(400);
  });
});
