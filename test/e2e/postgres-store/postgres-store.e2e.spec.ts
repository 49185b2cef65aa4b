/**
 * PostgresStore through a real Nest app, on Express and Fastify: the scenarios RedisStore runs
 * (test/e2e/redis-store), with what PostgreSQL receives per request recorded on the app's own
 * pool: a read is one SELECT, a change one SELECT and one merging UPDATE, a new session one
 * INSERT, a rolling read-only request a SELECT and a touch, a logout one DELETE. Expiry, TTLs
 * within the lifetime, and no resurrection after a logout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication, type Type } from '@nestjs/common';
import { Session, SessionModule, SessionService, type SessionData, type SessionStore } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { PLATFORMS, SECRET, cookieValue, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { Gate, describePostgres, ownName, kindOf, openPostgres, sleep, type PostgresFixture } from './postgres-e2e-support.js';

const LIFETIME = 60;
const gates = { current: new Gate() };

@Controller()
class CounterController {
  constructor(private readonly sessions: SessionService) {}
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
  @Get('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  /** Loads the session, waits until the test releases it, then modifies it. */
  @Get('slow') async slow(@Session() session: SessionData) {
    await gates.current.pass();
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('slow-peek') async slowPeek(@Session() session: SessionData) {
    await gates.current.pass();
    return { ...session };
  }
}

function appModule(name: string, store: SessionStore, options: { rolling?: boolean; lifetime?: number }): Type {
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store,
        lifetime: options.lifetime ?? LIFETIME,
        rolling: options.rolling ?? false,
        cookie: { secure: false },
        logger: false,
      }),
    ],
    controllers: [CounterController],
  })
  class FixtureModule {}
  Object.defineProperty(FixtureModule, 'name', { value: name });
  return FixtureModule;
}

describe.each(PLATFORMS)('PostgresStore through the HTTP app (%s)', (platform) => {
  const tables = { fixed: ownName(`sk_e2e_fixed_${platform}`), rolling: ownName(`sk_e2e_rolling_${platform}`), short: ownName(`sk_e2e_short_${platform}`) };

  describePostgres('PostgresStore scenarios', () => {
    let pg: PostgresFixture;
    let fixed: INestApplication;
    let rolling: INestApplication;
    let short: INestApplication;
    const measured: string[] = [];

    /** Seconds the session's row has left, as PostgreSQL sees it (undefined: no row). */
    const secondsLeft = async (table: string, cookie: string | undefined) =>
      (await pg.one<{ s: number }>(`SELECT extract(epoch from expires_at - now())::float8 AS s FROM "${table}" WHERE id = $1`, [idOf(cookie)]))?.s;
    const rowOf = (table: string, cookie: string | undefined) =>
      pg.one<{ fields: unknown; expires_at: Date }>(`SELECT fields, expires_at FROM "${table}" WHERE id = $1`, [idOf(cookie)]);

    async function newSession(app: INestApplication): Promise<string> {
      const res = await http(app).get('/count').expect(200, { count: 1 });
      const cookie = sessionCookie(res);
      expect(cookie).toBeDefined();
      return cookie!;
    }

    /** What one request sent to PostgreSQL. */
    async function record<T>(action: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
      pg.take();
      const result = await action();
      return { result, statements: pg.take() };
    }

    beforeAll(async () => {
      pg = await openPostgres(Object.values(tables));
      fixed = await startApp(appModule('FixedPostgresApp', pg.store(tables.fixed), {}), platform);
      rolling = await startApp(appModule('RollingPostgresApp', pg.store(tables.rolling), { rolling: true }), platform);
      short = await startApp(appModule('ShortPostgresApp', pg.store(tables.short), { lifetime: 1 }), platform);
      // Warm-up (tables created, connections open): the counts below are steady-state.
      for (const app of [fixed, rolling, short]) {
        const cookie = await newSession(app);
        await http(app).get('/count').set('Cookie', cookie).expect(200);
      }
    }, 60000);

    // A failed assertion must not leave a handler parked (app.close() would wait for it).
    afterEach(() => gates.current.open());

    afterAll(async () => {
      await fixed?.close();
      await rolling?.close();
      await short?.close();
      await pg?.stop();
      if (measured.length) console.log(`PostgreSQL statements per request (${platform}):\n  ${measured.join('\n  ')}`);
    });

    it('a counter works across requests; the row holds one base64 field per key', async () => {
      const cookie = await newSession(fixed);
      await http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      await http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 3 });
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, { count: 3 });
      const row = await rowOf(tables.fixed, cookie);
      expect(Object.keys(row!.fields as object).sort()).toEqual(['d:count', 'm']);
      expect(await readSessionData(pg.store(tables.fixed), idOf(cookie)!)).toEqual({ count: 3 });
    });

    it('a new session costs one statement: INSERT ... ON CONFLICT with an expiry within the lifetime', async () => {
      const { result: res, statements } = await record(() => http(fixed).get('/count').expect(200, { count: 1 }));
      expect(statements.map(kindOf)).toEqual(['INSERT ... ON CONFLICT']);
      const left = await secondsLeft(tables.fixed, sessionCookie(res));
      expect(left).toBeGreaterThan(LIFETIME - 2);
      expect(left).toBeLessThanOrEqual(LIFETIME);
      measured.push(`new session: ${statements.map(kindOf).join(' + ')}`);
    });

    it('a read-only request (fixed lifetime) is one SELECT, writes nothing, sends no cookie', async () => {
      const cookie = await newSession(fixed);
      const before = await rowOf(tables.fixed, cookie);
      const { result: res, statements } = await record(() => http(fixed).get('/peek').set('Cookie', cookie).expect(200, { count: 1 }));
      expect(statements.map(kindOf)).toEqual(['SELECT']);
      expect(setCookies(res)).toEqual([]);
      expect(await rowOf(tables.fixed, cookie)).toEqual(before);
      measured.push(`read-only (fixed): ${statements.map(kindOf).join(' + ')}`);
    });

    it('a modifying request is one SELECT and one conditional UPDATE that merges the changed field', async () => {
      const cookie = await newSession(fixed);
      const { result: res, statements } = await record(() => http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 2 }));
      expect(statements.map(kindOf)).toEqual(['SELECT', 'UPDATE (merge)']);
      // Conditional: the UPDATE only touches a live row (a removed session is never recreated).
      expect(statements[1]).toMatch(/WHERE id = \$1 AND expires_at > now\(\)/);
      expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
      const left = await secondsLeft(tables.fixed, cookie);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(LIFETIME);
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, { count: 2 });
      measured.push(`modifying: ${statements.map(kindOf).join(' + ')}`);
    });

    it('a rolling read-only request is one SELECT and one touch, rewrites no data, and re-sends the cookie', async () => {
      const cookie = await newSession(rolling);
      const before = await rowOf(tables.rolling, cookie);
      await sleep(300);
      const leftBefore = (await secondsLeft(tables.rolling, cookie))!;
      const { result: res, statements } = await record(() => http(rolling).get('/peek').set('Cookie', cookie).expect(200, { count: 1 }));
      expect(statements.map(kindOf)).toEqual(['SELECT', 'UPDATE (touch)']);
      const after = await rowOf(tables.rolling, cookie);
      expect(after!.fields).toEqual(before!.fields);
      // The module counts the idle deadline from the stored last-access stamp: the touch keeps
      // the row alive to that deadline, never past the lifetime.
      const leftAfter = (await secondsLeft(tables.rolling, cookie))!;
      expect(leftAfter).toBeGreaterThan(Math.min(leftBefore, LIFETIME - 2));
      expect(leftAfter).toBeLessThanOrEqual(LIFETIME);
      expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
      measured.push(`read-only (rolling): ${statements.map(kindOf).join(' + ')}`);
    });

    it('logout of an unloaded session: one index lookup (its user, if any) and one DELETE; the cookie is cleared', async () => {
      const cookie = await newSession(fixed);
      const { result: res, statements } = await record(() => http(fixed).get('/logout').set('Cookie', cookie).expect(200, { ok: true }));
      expect(statements.map(kindOf)).toEqual(['SELECT (index)', 'DELETE']);
      expect(await rowOf(tables.fixed, cookie)).toBeUndefined();
      expect(setCookies(res).find((c) => c.startsWith('sid='))).toMatch(/Max-Age=0/i);
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, {});
      measured.push(`logout: ${statements.map(kindOf).join(' + ')}`);
    });

    it('the expiry written by an update never exceeds the time the session has left (fixed lifetime)', async () => {
      const created = await newSession(fixed);
      const createdBy = Date.now();
      await sleep(1500);
      await http(fixed).get('/count').set('Cookie', created).expect(200, { count: 2 });
      const checkedAt = Date.now();
      const left = (await secondsLeft(tables.fixed, created))! * 1000;
      expect(left).toBeGreaterThan(0);
      // 20 ms of tolerance for the two clocks and the inspection's own round trip.
      expect(left).toBeLessThanOrEqual(createdBy + LIFETIME * 1000 - checkedAt + 20);
    });

    it('every live row expires within the lifetime', async () => {
      const rows = (await pg.inspect.query(`SELECT extract(epoch from expires_at - now())::float8 AS s FROM "${tables.fixed}" WHERE expires_at > now()`)).rows;
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const { s } of rows) expect(s).toBeLessThanOrEqual(LIFETIME);
    });

    it('an expired session (lifetime 1 s) gives an empty session with a fresh ID; the old ID is never adopted', async () => {
      const cookie = await newSession(short);
      await http(short).get('/peek').set('Cookie', cookie).expect(200, { count: 1 });
      await sleep(1200);
      const res = await http(short).get('/count').set('Cookie', cookie).expect(200, { count: 1 });
      const fresh = sessionCookie(res);
      expect(idOf(fresh)).toBeDefined();
      expect(idOf(fresh)).not.toBe(idOf(cookie));
      await http(short).get('/peek').set('Cookie', cookie).expect(200, {});
    });

    it('a destroyed session is not resurrected by a slower concurrent request that loaded it earlier', async () => {
      const cookie = await newSession(fixed);
      gates.current = new Gate();
      const slow = http(fixed).get('/slow').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived;
      await http(fixed).get('/logout').set('Cookie', cookie).expect(200);
      expect(await rowOf(tables.fixed, cookie)).toBeUndefined();
      const { result: slowRes, statements } = await record(async () => {
        gates.current.open();
        return slow;
      });
      expect(slowRes.status).toBe(200);
      // Its one write is the conditional merge, which found nothing to update.
      expect(statements.map(kindOf)).toEqual(['UPDATE (merge)']);
      expect(await rowOf(tables.fixed, cookie)).toBeUndefined();
      // And it does not hand the browser back the cookie the logout cleared.
      expect(setCookies(slowRes).filter((c) => c.startsWith('sid=') && !/Max-Age=0/i.test(c))).toEqual([]);
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, {});
    });

    it('a rolling read-only request that loaded a session before its logout does not bring the row back', async () => {
      const cookie = await newSession(rolling);
      gates.current = new Gate();
      const slow = http(rolling).get('/slow-peek').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived;
      await http(rolling).get('/logout').set('Cookie', cookie).expect(200);
      gates.current.open();
      expect((await slow).status).toBe(200);
      expect(await rowOf(tables.rolling, cookie)).toBeUndefined();
      const after = await http(rolling).get('/peek').set('Cookie', cookie).expect(200, {});
      expect(setCookies(after)).toEqual([]);
      expect(cookieValue(cookie)).toBeDefined();
    });

    it("app.close() stops the store's prune timer (Nest calls its onModuleDestroy) and leaves the app's pool open", async () => {
      const store = pg.store(tables.fixed, { pruneInterval: 60_000 });
      const closed: string[] = [];
      const close = store.close.bind(store);
      store.close = () => (closed.push('close'), close());
      const app = await startApp(appModule('HookApp', store, {}), platform);
      await app.close();
      expect(closed).toEqual(['close']);
      expect((await pg.pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });

    it('requests that ignore the session cost no statement', async () => {
      const { statements } = await record(() => http(fixed).get('/nothing-here').expect(404));
      expect(statements).toEqual([]);
    });
  });
});
