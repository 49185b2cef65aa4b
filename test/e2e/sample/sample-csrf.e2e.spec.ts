/**
 * The sample app's CSRF protection over HTTP, on Express and Fastify: its page's forms carry
 * the token in a hidden `_csrf` field, its JSON API hands a token out and takes it in the
 * `x-csrf-token` header, and a POST without it answers 403 (an HTML page for the forms, JSON for
 * the API) without logging anybody in or out. The same in a real browser: test/browser.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { AppModule } from '../../../sample/app.module.js';
import { PLATFORMS, http, sessionCookie, startApp, type Platform } from '../../support/session-app.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** The hidden `_csrf` value of the form posting to `action`. */
function formToken(html: string, action: string): string {
  const form = new RegExp(`<form[^>]*action="${action}"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  const token = form && /<input type="hidden" name="_csrf" value="([^"]+)">/.exec(form[1]!);
  if (!token) throw new Error(`no _csrf field in the form posting to ${action}`);
  return token[1]!;
}

describe.each(PLATFORMS)('sample app CSRF (%s)', (platform: Platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    delete process.env.REDIS_URL;
    delete process.env.SESSION_STORE_KIND;
    app = await startApp(AppModule, platform);
  });
  afterAll(async () => {
    await app.close();
  });

  it('logs in through the page form with its hidden token, and refuses the form without it', async () => {
    const page = await http(app).get('/').expect(200);
    const cookie = sessionCookie(page)!;
    const token = formToken(page.text, '/login');

    const refused = await http(app).post('/login').set('Cookie', cookie).type('form').send({ username: 'Ada' });
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/text\/html/);
    expect(refused.text).toMatch(/CSRF token missing/);
    const forged = await http(app).post('/login').set('Cookie', cookie).type('form').send({ username: 'Ada', _csrf: 'x'.repeat(86) });
    expect(forged.status).toBe(403);
    expect(forged.text).toMatch(/CSRF token invalid/);

    const login = await http(app).post('/login').set('Cookie', cookie).type('form').send({ username: 'Ada', _csrf: token });
    expect(login.status).toBe(303);
    const loggedIn = sessionCookie(login)!;
    const home = await http(app).get('/').set('Cookie', loggedIn).expect(200);
    expect(home.text).toContain('<strong id="username">Ada</strong>');
    // Every form of the logged-in page carries a token of the new secret; the old one is void.
    const logoutToken = formToken(home.text, '/logout');
    formToken(home.text, '/sessions/logout-others');
    await http(app).post('/logout').set('Cookie', loggedIn).type('form').send({ _csrf: token }).expect(403);
    await http(app).post('/logout').set('Cookie', loggedIn).type('form').send({ _csrf: logoutToken }).expect(303);
  });

  it('takes the API token in the x-csrf-token header', async () => {
    const shown = await http(app).get('/api/session').expect(200);
    const cookie = sessionCookie(shown)!;
    expect(shown.body).toEqual({ visits: 1, username: null, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) });

    const refused = await http(app).post('/api/login').set('Cookie', cookie).send({ username: 'Ada' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ statusCode: 403, message: expect.stringMatching(/CSRF token missing/) });

    const login = await http(app).post('/api/login').set('Cookie', cookie).set('x-csrf-token', shown.body.csrfToken).send({ username: 'Ada' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ visits: 1, username: 'Ada', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) });
    const loggedIn = sessionCookie(login)!;
    // The login rotated the secret: only the token it returned works from now on.
    await http(app).post('/api/logout').set('Cookie', loggedIn).set('x-csrf-token', shown.body.csrfToken).expect(403);
    await http(app).post('/api/logout').set('Cookie', loggedIn).set('x-csrf-token', login.body.csrfToken).expect(204);
  });
});
