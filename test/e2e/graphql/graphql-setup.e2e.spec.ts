import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { CookieStore } from '../../../src/index.js';
import { sessionCookie } from '../../support/session-app.js';
import { SpyStore } from '../commit-rules/fixtures.js';
import { DRIVERS, gql, graphqlApp, startGraphqlApp } from './graphql-fixtures.js';

describe.each(DRIVERS)('GraphQL without the commit hook: the session is refused, never lost ($driver on $platform)', ({ driver }) => {
  const store = new SpyStore();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startGraphqlApp(driver, graphqlApp(driver, store, { wired: false }));
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => store.resetCalls());

  it('operations that never touch the session work as before', async () => {
    expect((await gql(app, '{ ping }').expect(200)).body).toEqual({ data: { ping: 'pong' } });
  });

  it.each([
    ['@Session()', 'mutation { add(item: "apple") }'],
    ['sessionService.load(ctx)', 'mutation { addViaService(item: "apple") }'],
    ['a guard that loads and changes it', '{ guarded }'],
  ])('%s: the resolver fails with SessionGraphqlSetupError naming the line to add', async (_how, operation) => {
    const res = await gql(app, operation);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].message).toContain(driver === 'apollo' ? 'plugins: [sessionApolloPlugin()]' : 'sessionMercuriusRouteOptions()');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(store.calls).toEqual({ read: 0, write: 0, update: 0, remove: 0, touch: 0 });
  });
});

describe.each(DRIVERS)('GraphQL: a save that fails for another reason than the store ($driver on $platform)', ({ driver }) => {
  // A cookie store whose payload outgrows what browsers keep: refused before anything is sent.
  const store = new CookieStore({ maxSize: 200 });
  let app: INestApplication;
  beforeAll(async () => {
    app = await startGraphqlApp(driver, graphqlApp(driver, store));
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers the error status with SESSION_NOT_SAVED, the message naming the size, and no cookie', async () => {
    const res = await gql(app, `mutation { add(item: "${'x'.repeat(300)}") }`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: [{ message: expect.stringMatching(/Session cookie is \d+ bytes/), extensions: { code: 'SESSION_NOT_SAVED' } }] });
    expect(sessionCookie(res)).toBeUndefined();
  });
});
