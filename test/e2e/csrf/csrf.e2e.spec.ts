/**
 * Issue 14 item 3, CSRF protection (SPEC §11.6), on Express and Fastify: a session's masked
 * synchronizer token (`sessionService.csrfToken(req)`) is required by `CsrfGuard` on unsafe
 * methods, in the `x-csrf-token` header or the `_csrf` form/body field; a missing or wrong token
 * answers 403 (`CsrfTokenError`), never 500, and a request without a session creates none; the
 * secret rotates on login and ends with logout; `@SkipCsrf()`, `@UseGuards(CsrfGuard)`,
 * `@CsrfProtected()`, and the `csrf` option's names.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { readSessionData } from '../../../src/testing/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { SpyStore } from '../commit-rules/fixtures.js';
import { PLATFORMS, http, idOf, setCookies, startApp, type Platform } from '../../support/session-app.js';
import { Client, csrfAppModule } from './csrf-fixtures.js';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{86}$/;

describe.each(PLATFORMS)('CSRF protection (%s)', (platform: Platform) => {
  describe('with CsrfGuard as APP_GUARD', () => {
    let app: INestApplication;
    const store = new CountingStore();

    beforeAll(async () => {
      app = await startApp(csrfAppModule({ store }), platform);
    });
    afterAll(async () => {
      await app.close();
    });
    beforeEach(() => store.reset());

    it('hands out a new masked token per call, each verifying, and creates the session for it', async () => {
      const client = new Client(app);
      const res = await http(app).get('/forms').expect(200);
      const tokens = res.body.tokens as string[];
      expect(new Set(tokens).size).toBe(3);
      for (const token of tokens) expect(token).toMatch(TOKEN_SHAPE);
      // An anonymous visitor's session is kept for the form it is about to post.
      const cookie = setCookies(res).find((c) => c.startsWith('sid='));
      expect(cookie).toBeDefined();
      client.cookie = cookie!.split(';')[0];
      for (const token of tokens) await client.post('/submit', token).then((r) => expect(r.status).toBe(200));
      const again = await client.token();
      expect(tokens).not.toContain(again);
      expect((await client.post('/submit', again)).status).toBe(200);
    });

    it('keeps the secret out of the user data, in the store and in the handler', async () => {
      const client = new Client(app);
      await client.token();
      const data = await http(app).get('/data').set('Cookie', client.cookie!).expect(200);
      expect(data.body).toEqual({ keys: [], session: {} });
      const stored = await readSessionData(store, idOf(client.cookie)!);
      expect(stored).toEqual({});
    });

    it('lets safe methods through without a token', async () => {
      await http(app).get('/data').expect(200);
      await http(app).head('/data').expect(200);
      const options = await http(app).options('/submit');
      expect(options.status).not.toBe(403);
    });

    it.each(['post', 'put', 'patch', 'delete'] as const)('refuses %s without a token: 403, no store access, no cookie', async (method) => {
      const client = new Client(app);
      await client.token();
      store.reset();
      const res = await http(app)[method]('/submit').set('Cookie', client.cookie!).send({ note: 'x' });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      expect(res.body.message).toMatch(/CSRF token missing.*"x-csrf-token" header.*"_csrf" form field/);
      expect(store.total()).toBe(0);
      expect(setCookies(res)).toEqual([]);
    });

    it.each(['put', 'patch', 'delete'] as const)('accepts %s with the header token', async (method) => {
      const client = new Client(app);
      const token = await client.token();
      const res = await http(app)[method]('/submit').set('Cookie', client.cookie!).set('x-csrf-token', token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ method: method.toUpperCase() });
    });

    it('accepts an HTML form (urlencoded, _csrf field) and a JSON body field', async () => {
      const client = new Client(app);
      const token = await client.token();
      const form = await client.form('/submit', { _csrf: token, note: 'from a form' });
      expect(form.status).toBe(200);
      expect(form.body).toEqual({ posts: 1, note: 'from a form' });
      const json = await client.post('/submit', undefined, { _csrf: token, note: 'json' });
      expect(json.status).toBe(200);
      expect(json.body).toEqual({ posts: 2, note: 'json' });
    });

    it('prefers the header to the body field', async () => {
      const client = new Client(app);
      const token = await client.token();
      expect((await client.post('/submit', 'wrong', { _csrf: token })).status).toBe(403);
      expect((await client.post('/submit', token, { _csrf: 'wrong' })).status).toBe(200);
    });

    it('refuses a POST without a session with 403, creating no session (no store call, no cookie)', async () => {
      const foreign = await new Client(app).token();
      store.reset();
      for (const res of [
        await http(app).post('/submit').set('x-csrf-token', foreign).send({}),
        await http(app).post('/lazy').type('form').send(`_csrf=${foreign}`),
        await http(app).post('/submit').set('x-csrf-token', 'garbage').send({}),
        await http(app).post('/submit').send({}),
      ]) {
        expect(res.status).toBe(403);
        expect(setCookies(res)).toEqual([]);
      }
      expect(store.calls.write + store.calls.update + store.calls.touch + store.calls.remove).toBe(0);
      // A bad token with no cookie costs no store read either.
      expect(store.calls.read).toBe(0);
    });

    it('refuses a wrong token with a clear 403, and writes nothing', async () => {
      const client = new Client(app);
      const token = await client.token();
      store.reset();
      const flipped = token.slice(0, 50) + (token[50] === 'A' ? 'B' : 'A') + token.slice(51);
      for (const bad of [flipped, token.slice(1), `${token}A`, 'x', token.toUpperCase()]) {
        const res = await client.post('/submit', bad);
        expect(res.status).toBe(403);
        expect(res.body.message).toMatch(/CSRF token invalid/);
        expect(setCookies(res)).toEqual([]);
      }
      expect(store.calls.write + store.calls.update + store.calls.touch + store.calls.remove).toBe(0);
    });

    it('answers 403, not 500, for tokens of the wrong type (repeated form field, JSON number/array/object)', async () => {
      const client = new Client(app);
      const token = await client.token();
      const repeated = await http(app).post('/submit').set('Cookie', client.cookie!).type('form').send(`_csrf=${token}&_csrf=${token}`);
      expect(repeated.status).toBe(403);
      for (const value of [42, [token], { token }, null, true]) {
        expect((await client.post('/submit', undefined, { _csrf: value })).status).toBe(403);
      }
      // A body that is not an object (text) carries no field.
      const text = await http(app).post('/submit').set('Cookie', client.cookie!).type('text/plain').send(token);
      expect(text.status).toBe(403);
    });

    it("refuses another session's token", async () => {
      const alice = new Client(app);
      const mallory = new Client(app);
      await alice.token();
      const malloryToken = await mallory.token();
      expect((await alice.post('/submit', malloryToken)).status).toBe(403);
      expect((await mallory.post('/submit', malloryToken)).status).toBe(200);
    });

    it('rotates the secret on login: old tokens are refused, a fresh one works', async () => {
      const client = new Client(app);
      const before = await client.token();
      const cookieBefore = client.cookie;
      const login = await client.post('/login', before, { user: 'ada' });
      expect(login.status).toBe(200);
      expect(idOf(client.cookie)).not.toBe(idOf(cookieBefore));
      expect((await client.post('/submit', before)).status).toBe(403);
      const after = await client.token();
      expect((await client.post('/submit', after)).status).toBe(200);
      // The old cookie names a removed record: its token is worthless with it too.
      expect((await client.post('/submit', before, {}, cookieBefore)).status).toBe(403);
    });

    it('a JSON login that regenerates in the handler hands back a token of the new session', async () => {
      const client = new Client(app);
      const before = await client.token();
      const login = await client.post('/api-login', before, { user: 'grace' });
      expect(login.status).toBe(200);
      expect(login.body.token).toMatch(TOKEN_SHAPE);
      expect((await client.post('/submit', login.body.token)).status).toBe(200);
      expect((await client.post('/submit', before)).status).toBe(403);
    });

    it('ends the secret with logout: replayed tokens are refused, with or without the old cookie', async () => {
      const client = new Client(app);
      const token = await client.token();
      const cookie = client.cookie;
      await client.post('/login', token, { user: 'ada' });
      const loggedIn = await client.token();
      const loggedInCookie = client.cookie;
      const logout = await client.post('/logout', loggedIn);
      expect(logout.status).toBe(204);
      expect(client.cookie).toBeUndefined();
      expect((await client.post('/submit', loggedIn)).status).toBe(403);
      expect((await client.post('/submit', loggedIn, {}, loggedInCookie)).status).toBe(403);
      expect((await client.post('/submit', token, {}, cookie)).status).toBe(403);
      // A new anonymous session gets a new secret.
      const fresh = await client.token();
      expect((await client.post('/submit', fresh)).status).toBe(200);
    });

    it('needs the session loaded for csrfToken() and says how (SessionNotLoadedError)', async () => {
      const res = await http(app).get('/unloaded-token').expect(200);
      expect(res.body.error).toBe('SessionNotLoadedError');
      expect(res.body.message).toMatch(/@Session\(\)/);
    });

    it('loads the session for a route that does not use it, and saves nothing on it', async () => {
      const client = new Client(app);
      const token = await client.token();
      store.reset();
      const res = await client.post('/lazy', token);
      expect(res.status).toBe(200);
      expect(store.calls.read).toBe(1);
      expect(store.calls.write + store.calls.update + store.calls.remove).toBe(0);
    });

    it('@SkipCsrf() exempts a route or a controller; @SkipCsrf(false) and @CsrfProtected() opt back in', async () => {
      await http(app).post('/webhook').expect(200);
      await http(app).post('/hooks/incoming').expect(200);
      await http(app).post('/hooks/guarded').expect(403);
      await http(app).post('/hooks/protected').expect(403);
      const client = new Client(app);
      const token = await client.token();
      expect((await client.post('/hooks/guarded', token)).status).toBe(200);
      expect((await client.post('/hooks/protected', token)).status).toBe(200);
    });

    it('checks the token before taking a @SessionLock(), and reads the session only under the lock', async () => {
      const client = new Client(app);
      const token = await client.token();
      const results = await Promise.all(Array.from({ length: 20 }, () => http(app).post('/locked-inc').set('Cookie', client.cookie!).set('x-csrf-token', token)));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      // No lost update: every request read the count under the lock.
      expect(results.map((r) => r.body.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await client.post('/locked-inc', 'wrong')).status).toBe(403);
      expect((await client.post('/locked-inc', undefined)).status).toBe(403);
    });
  });

  describe('per route, without a global guard', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(csrfAppModule({ store: new CountingStore(), global: false }), platform);
    });
    afterAll(async () => {
      await app.close();
    });

    it('protects @UseGuards(CsrfGuard) and @CsrfProtected() routes only', async () => {
      await http(app).post('/per-route/open').expect(200);
      await http(app).post('/submit').send({}).expect(200);
      await http(app).post('/per-route/use-guards').expect(403);
      await http(app).post('/per-route/decorator').expect(403);
      const client = new Client(app);
      const token = await client.token();
      expect((await client.post('/per-route/use-guards', token)).status).toBe(200);
      expect((await client.form('/per-route/decorator', { _csrf: token })).status).toBe(200);
      expect((await client.post('/per-route/decorator', 'wrong')).status).toBe(403);
    });
  });

  describe.each(['reject', 'anonymous'] as const)('when the store fails during the check (storeFailure: %s)', (storeFailure) => {
    let app: INestApplication;
    const store = new SpyStore();
    beforeAll(async () => {
      app = await startApp(csrfAppModule({ store, extra: { storeFailure, skip: 'x-no-session' } }), platform);
    });
    afterAll(async () => {
      await app.close();
    });

    it(`answers ${storeFailure === 'reject' ? 503 : 403}, and sends no cookie`, async () => {
      const client = new Client(app);
      const token = await client.token();
      store.failing.add('read');
      for (const path of ['/submit', '/locked-inc']) {
        const res = await client.post(path, token);
        expect({ path, status: res.status }).toEqual({ path, status: storeFailure === 'reject' ? 503 : 403 });
        expect(setCookies(res)).toEqual([]);
      }
      store.resetCalls();
      expect((await client.post('/submit', token)).status).toBe(200);
    });

    it('refuses a request the `skip` option exempts from sessions (it has none)', async () => {
      const client = new Client(app);
      const token = await client.token();
      const res = await http(app).post('/submit').set('Cookie', client.cookie!).set('x-csrf-token', token).set('x-no-session', '1').send({});
      expect(res.status).toBe(403);
      expect(setCookies(res)).toEqual([]);
    });
  });

  describe('with the `csrf` option', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(csrfAppModule({ store: new CountingStore(), csrf: { header: 'X-XSRF-Token', field: 'authenticity_token' } }), platform);
    });
    afterAll(async () => {
      await app.close();
    });

    it('looks for the token under the configured header and field names only', async () => {
      const client = new Client(app);
      const token = await client.token();
      const header = await http(app).post('/submit').set('Cookie', client.cookie!).set('x-xsrf-token', token).send({});
      expect(header.status).toBe(200);
      expect((await client.form('/submit', { authenticity_token: token })).status).toBe(200);
      const defaults = await client.post('/submit', token, { _csrf: token });
      expect(defaults.status).toBe(403);
      expect(defaults.body.message).toMatch(/"x-xsrf-token" header or the "authenticity_token" form field/);
    });
  });
});
