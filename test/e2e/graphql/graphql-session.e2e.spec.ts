import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { readSessionData } from '../../../src/testing/index.js';
import { idOf, sessionCookie } from '../../support/session-app.js';
import { SpyStore, sidLines, stored } from '../commit-rules/fixtures.js';
import { DRIVERS, gql, graphqlApp, startGraphqlApp } from './graphql-fixtures.js';

describe.each(DRIVERS)('GraphQL resolvers have the session, with the HTTP commit rules ($driver on $platform)', ({ driver }) => {
  const store = new SpyStore();
  let app: INestApplication;

  beforeAll(async () => {
    app = await startGraphqlApp(driver, graphqlApp(driver, store));
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(() => store.resetCalls());

  async function login(name = 'ada'): Promise<string> {
    const res = await gql(app, `mutation { login(name: "${name}") }`).expect(200);
    expect(res.body).toEqual({ data: { login: true } });
    return sessionCookie(res)!;
  }

  it('an operation that never touches the session makes no store call and sends no cookie', async () => {
    const res = await gql(app, '{ ping }').expect(200);
    expect(res.body).toEqual({ data: { ping: 'pong' } });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(store.calls).toEqual({ read: 0, write: 0, update: 0, remove: 0, touch: 0 });
  });

  it('a mutation that changes the session saves it and sends the cookie with the answer', async () => {
    const res = await gql(app, 'mutation { add(item: "apple") }').expect(200);
    expect(res.body).toEqual({ data: { add: ['apple'] } });
    const cookie = sessionCookie(res)!;
    expect(cookie).toBeDefined();
    expect(res.headers.vary).toMatch(/cookie/i);
    expect(await stored(store, idOf(cookie))).toEqual({ cart: ['apple'] });
    // The next request reads it: @Session(), @Session('key') and a field resolver.
    const read = await gql(app, '{ me { user cart cartSize } whoami }', cookie).expect(200);
    expect(read.body).toEqual({ data: { me: { user: null, cart: ['apple'], cartSize: 1 }, whoami: null } });
    // Reading (fixed expiry) writes nothing and sends no cookie.
    expect(read.headers['set-cookie']).toBeUndefined();
    expect(store.persistingCalls()).toBe(1);
  });

  it('a query that only reads sends no cookie and writes nothing', async () => {
    const cookie = await login();
    store.resetCalls();
    const res = await gql(app, '{ whoami }', cookie).expect(200);
    expect(res.body).toEqual({ data: { whoami: 'ada' } });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(store.calls).toEqual({ read: 1, write: 0, update: 0, remove: 0, touch: 0 });
  });

  it('several root fields in one request: each changes the session, one commit saves all', async () => {
    const cookie = await login();
    store.resetCalls();
    const res = await gql(app, 'mutation { a: add(item: "x") b: addViaService(item: "y") c: add(item: "z") }', cookie).expect(200);
    expect(res.body).toEqual({ data: { a: ['x'], b: ['x', 'y'], c: ['x', 'y', 'z'] } });
    expect(sidLines(res)).toHaveLength(1);
    expect(store.calls.read).toBe(1);
    expect(store.persistingCalls()).toBe(1);
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada', cart: ['x', 'y', 'z'] });
  });

  it('a batch of operations in one HTTP request: one load, one commit, one cookie', async () => {
    const cookie = await login();
    store.resetCalls();
    const res = await gql(
      app,
      [{ query: 'mutation { add(item: "one") }' }, { query: 'mutation { addViaService(item: "two") }' }, { query: '{ whoami }' }],
      cookie,
    ).expect(200);
    expect(res.body).toHaveLength(3);
    expect(res.body[2]).toEqual({ data: { whoami: 'ada' } });
    expect(store.calls.read).toBe(1);
    expect(store.persistingCalls()).toBe(1);
    expect(sidLines(res)).toHaveLength(1);
    expect((await stored(store, idOf(cookie)))!.cart).toEqual(expect.arrayContaining(['one', 'two']));
  });

  it('SessionService takes the GraphQL context (and, on Mercurius, the Fastify reply)', async () => {
    const cookie = await login('grace');
    const res = await gql(app, '{ loaded sessionId userViaReply }', cookie).expect(200);
    expect(res.body.data).toEqual({ loaded: false, sessionId: idOf(cookie), userViaReply: 'grace' });
    expect((await gql(app, '{ loadedOnceLoaded }', cookie).expect(200)).body.data).toEqual({ loadedOnceLoaded: true });
  });

  it('@UseSessionAutoload() on a resolver class loads the session for sessionService.get(ctx)', async () => {
    const cookie = await login('ada');
    expect((await gql(app, '{ autoUser }', cookie).expect(200)).body).toEqual({ data: { autoUser: 'ada' } });
  });

  it('a guard loads the session (guards run first); the resolver sees it, and the guard\'s change is saved', async () => {
    const cookie = await login('ada');
    expect((await gql(app, '{ guarded }', cookie).expect(200)).body).toEqual({ data: { guarded: 1 } });
    expect((await gql(app, '{ guarded }', cookie).expect(200)).body).toEqual({ data: { guarded: 2 } });
  });

  it('@RegenerateSession() on a mutation: new ID, data kept, old record removed', async () => {
    const first = await login('ada');
    const res = await gql(app, 'mutation { login(name: "root") }', first).expect(200);
    const second = sessionCookie(res)!;
    expect(idOf(second)).not.toBe(idOf(first));
    expect(await stored(store, idOf(second))).toEqual({ user: 'root' });
    expect(await stored(store, idOf(first))).toBeNull();
  });

  it('sessionService.destroy(ctx): record removed, cookie cleared', async () => {
    const cookie = await login();
    const res = await gql(app, 'mutation { logout }', cookie).expect(200);
    expect(sidLines(res)).toEqual([expect.stringMatching(/^sid=;.*Max-Age=0/)]);
    expect(await stored(store, idOf(cookie))).toBeNull();
  });

  it('flash: a message set by a mutation is read by the next request, then gone', async () => {
    const cookie = await login();
    await gql(app, 'mutation { note(message: "Saved.") }', cookie).expect(200);
    expect((await gql(app, '{ notes }', cookie).expect(200)).body).toEqual({ data: { notes: ['Saved.'] } });
    expect((await gql(app, '{ notes }', cookie).expect(200)).body).toEqual({ data: { notes: [] } });
  });

  it('bindUser(ctx, id) indexes the session for listForUser', async () => {
    const cookie = await login();
    await gql(app, 'mutation { bindMe(userId: "u-1") }', cookie).expect(200);
    const res = await gql(app, '{ mySessions(userId: "u-1") }', cookie).expect(200);
    expect(res.body).toEqual({ data: { mySessions: 1 } });
  });

  it('@SessionLock() on a mutation: concurrent requests of one session run one at a time', async () => {
    const cookie = await login();
    const answers = await Promise.all([1, 2, 3].map(() => gql(app, 'mutation { increment }', cookie).expect(200)));
    expect(answers.map((r) => r.body.data.increment).sort()).toEqual([1, 2, 3]);
    expect((await stored(store, idOf(cookie)))!.counter).toBe(3);
  });

  it('a resolver that throws a 4xx HttpException keeps its changes; one that crashes saves nothing', async () => {
    const cookie = await login();
    const forbidden = await gql(app, 'mutation { forbiddenAfterChange }', cookie);
    expect(forbidden.body.errors[0].message).toBe('no');
    expect((await stored(store, idOf(cookie)))!.attempts).toBe(1);

    const crashed = await gql(app, 'mutation { crashAfterChange add(item: "lost") }', cookie);
    expect(crashed.body.errors).toHaveLength(1);
    expect(crashed.headers['set-cookie']).toBeUndefined();
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada', attempts: 1 });
  });

  it('a store write that fails turns the answer into an error: HTTP 503, SESSION_STORE_UNAVAILABLE, no data, no cookie', async () => {
    store.failing.add('write');
    const res = await gql(app, 'mutation { add(item: "apple") }');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      errors: [{ message: expect.stringContaining('Session store unavailable'), extensions: { code: 'SESSION_STORE_UNAVAILABLE' } }],
    });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a failed save in a batch turns every answer of the batch into that error', async () => {
    const cookie = await login();
    store.failing.add('update');
    const res = await gql(app, [{ query: 'mutation { add(item: "a") }' }, { query: '{ whoami }' }], cookie);
    expect(res.status).toBe(503);
    expect(res.body).toEqual([0, 1].map(() => ({ errors: [expect.objectContaining({ extensions: { code: 'SESSION_STORE_UNAVAILABLE' } })] })));
    expect(res.headers['set-cookie']).toBeUndefined();
    store.failing.clear();
    expect(await readSessionData(store, idOf(cookie)!)).toEqual({ user: 'ada' });
  });
});
