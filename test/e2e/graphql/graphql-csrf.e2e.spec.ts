import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { http, sessionCookie } from '../../support/session-app.js';
import { SpyStore } from '../commit-rules/fixtures.js';
import { gql, graphqlApp, startGraphqlApp } from './graphql-fixtures.js';

/**
 * What a cross-site page can make a browser send without a preflight: a form POST
 * (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`) or a GET. Apollo
 * Server's `csrfPrevention` (on by default in Apollo Server 4 and 5) refuses all of them unless
 * they carry a non-simple content type or an `apollo-require-preflight` / `x-apollo-operation-name`
 * header, so a session-changing mutation never runs for them.
 */
describe('GraphQL and CSRF: Apollo refuses cross-site simple requests before any resolver runs (apollo on express)', () => {
  const store = new SpyStore();
  let app: INestApplication;
  let victim: string;
  const mutation = 'mutation { login(name: "mallory") }';

  beforeAll(async () => {
    app = await startGraphqlApp('apollo', graphqlApp('apollo', store));
    victim = sessionCookie(await gql(app, 'mutation { login(name: "ada") }').expect(200))!;
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => store.resetCalls());

  function expectBlocked(res: { status: number; text: string; headers: Record<string, unknown> }) {
    expect(res.status).toBe(400);
    expect(res.text).toContain('Cross-Site Request Forgery');
    expect(res.headers['set-cookie']).toBeUndefined();
    // Refused before execution: the session was not even read.
    expect(store.calls).toEqual({ read: 0, write: 0, update: 0, remove: 0, touch: 0 });
  }

  it('a form POST (urlencoded) carrying the mutation, with the victim\'s cookie, is refused', async () => {
    const res = await http(app).post('/graphql').set('Cookie', victim).type('form').send({ query: mutation });
    expectBlocked(res);
  });

  it('a text/plain POST (what a form with enctype="text/plain" sends) is refused', async () => {
    const res = await http(app).post('/graphql').set('Cookie', victim).set('Content-Type', 'text/plain').send(JSON.stringify({ query: mutation }));
    expectBlocked(res);
  });

  it('a GET carrying the mutation (a link, an <img>) is refused', async () => {
    const res = await http(app).get('/graphql').query({ query: mutation }).set('Cookie', victim);
    expectBlocked(res);
  });

  it('the victim\'s session is unchanged, while the same mutation from the app (JSON) runs', async () => {
    expect((await gql(app, '{ whoami }', victim).expect(200)).body).toEqual({ data: { whoami: 'ada' } });
    expect((await gql(app, mutation, victim).expect(200)).body).toEqual({ data: { login: true } });
  });
});
