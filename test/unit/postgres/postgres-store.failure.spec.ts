/**
 * PostgresStore when PostgreSQL fails, against a PRIVATE server this file starts (initdb in a
 * temp dir, its own port): stopped (clean shutdown), killed (SIGKILL), frozen (SIGSTOP, then
 * SIGCONT), and a pool with no free client. The app's pg Pool keeps pg's defaults (no connection
 * or query timeout): the store enforces its own budget. Every failure is a rejected promise
 * within the budget (the module's `storeFailure` outcome, checked through the HTTP app on Express
 * and Fastify), a stuck client is dropped rather than returned to the pool, and the store
 * recovers by itself once the server is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import type pg from 'pg';
import { Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PostgresStore, PostgresStoreTimeoutError } from '../../../src/postgres/index.js';
import { freePort } from '../../support/redis-server.js';
import { PLATFORMS, SECRET, http, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { describePostgresServer, sleep, startPostgresServer, testPool, type PostgresServer } from '../../support/postgres-server.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const BUDGET_MS = 1000; // the store's default timeout
// Slack over the budget for timer and event-loop jitter.
const SLACK_MS = 300;
const POOL_MAX = 10; // pg's default

/** Settles `promise` and returns how long it took and how it ended. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    return { ms: performance.now() - start, value: await promise };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

/** Retries `operation` until it succeeds: the store must recover without help. */
async function until<T>(operation: () => Promise<T>, withinMs: number): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  for (;;) {
    try {
      return { ms: performance.now() - start, value: await operation() };
    } catch (error) {
      if (performance.now() - start > withinMs) throw error;
      await sleep(100);
    }
  }
}

const measured: string[] = [];
afterAll(() => {
  if (measured.length) console.log(`PostgresStore failure timings:\n  ${measured.join('\n  ')}`);
});

describePostgresServer('PostgresStore when PostgreSQL fails (pg Pool with default options)', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let store: PostgresStore;

  beforeAll(async () => {
    server = await startPostgresServer();
    pool = testPool(server.config); // only an 'error' listener: pg emits idle clients' errors on the pool
    store = new PostgresStore({ pool, createTable: true, pruneInterval: false });
    await store.init();
  }, 60000);

  afterEach(() => server?.resume());

  afterAll(async () => {
    await store?.close();
    await pool?.end().catch(() => undefined);
    await server?.stop();
  });

  it('frozen (SIGSTOP): a read fails within the 1 s budget, the stuck client is dropped (not pooled), and after SIGCONT the store recovers', async () => {
    await store.write('frozen', bytes('kept'), 3600, 600);
    expect(pool.totalCount).toBeGreaterThanOrEqual(1);
    expect(pool.idleCount).toBe(pool.totalCount);
    server.pause();
    const read = await timed(store.read('frozen'));
    expect(read.error).toBeInstanceOf(PostgresStoreTimeoutError);
    expect((read.error as PostgresStoreTimeoutError).operation).toBe('read');
    expect((read.error as PostgresStoreTimeoutError).timeout).toBe(BUDGET_MS);
    expect(read.ms).toBeGreaterThanOrEqual(BUDGET_MS - 10);
    expect(read.ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    // The client that was waiting for its answer left the pool: the next caller never queues behind it.
    expect(pool.totalCount - pool.idleCount).toBe(0);
    server.resume();
    const recovered = await until(() => store.read('frozen'), 5000);
    expect(recovered.value?.toString()).toBe('kept');
    measured.push(`SIGSTOP read rejected after ${read.ms.toFixed(0)} ms; after SIGCONT, read succeeded in ${recovered.ms.toFixed(0)} ms`);
  });

  it('frozen: every operation is bounded, more of them than the pool has clients; the pool is whole afterwards', async () => {
    const fast = new PostgresStore({ pool, timeout: 200, pruneInterval: false });
    const id = 'bounded';
    await fast.patch(id, { set: new Map([['m', bytes('x')]]), unset: [] }, 60, 'create');
    server.pause();
    const entry = { handle: 'h', sessionId: id, created: Date.now(), lastSeen: Date.now(), expiresAt: Date.now() + 60_000 };
    const operations: [string, () => Promise<unknown>][] = [
      ['read', () => fast.read(id)],
      ['read', () => fast.readFields(id)],
      ['write', () => fast.write(id, bytes('x'), 3600, 60)],
      ['write', () => fast.patch(id, { set: new Map([['m', bytes('y')]]), unset: [] }, 60, 'create')],
      ['update', () => fast.update(id, bytes('x'), 3600, 60)],
      ['update', () => fast.patch(id, { set: new Map([['m', bytes('y')]]), unset: [] }, 60, 'update')],
      ['remove', () => fast.remove('other')],
      ['touch', () => fast.touch(id, 60)],
      ['lock', () => fast.acquireLock(id, 't', 1000)],
      ['lock', () => fast.releaseLock(id, 't')],
      ['index', () => fast.indexUserSession('u', entry)],
      ['index', () => fast.listUserSessions('u')],
      ['index', () => fast.unindexUserSession('u', 'h')],
      ['index', () => fast.resolveUserSession('h')],
      ['prune', () => fast.prune()],
    ];
    expect(operations.length).toBeGreaterThan(POOL_MAX);
    const results = await Promise.all(operations.map(([, run]) => timed(run())));
    expect(results.map((r) => (r.error as PostgresStoreTimeoutError)?.operation)).toEqual(operations.map(([op]) => op));
    for (const r of results) expect(r.ms).toBeLessThan(200 + SLACK_MS);
    const worst = Math.max(...results.map((r) => r.ms));
    server.resume();
    // Checkouts abandoned at the deadline get their clients when the server answers, and hand them straight back.
    const recovered = await until(() => fast.read(id), 5000);
    await Promise.all(Array.from({ length: 2 * POOL_MAX }, () => fast.read(id)));
    await until(async () => {
      if (pool.waitingCount !== 0 || pool.idleCount !== pool.totalCount) throw new Error('pool still busy');
    }, 3000);
    expect(pool.totalCount).toBeLessThanOrEqual(POOL_MAX);
    await fast.close();
    measured.push(
      `SIGSTOP, timeout 200: all ${operations.length} operations (pool max ${POOL_MAX}) rejected within ${worst.toFixed(0)} ms; ` +
        `recovered in ${recovered.ms.toFixed(0)} ms, pool ${pool.totalCount} clients, none waiting`,
    );
  });

  it('an exhausted pool (every client checked out elsewhere) fails within the budget; the abandoned checkout is handed back', async () => {
    const small = testPool(server.config, { max: 2 });
    const tight = new PostgresStore({ pool: small, timeout: 300, pruneInterval: false });
    try {
      const held = [await small.connect(), await small.connect()];
      const read = await timed(tight.read('frozen'));
      expect(read.error).toBeInstanceOf(PostgresStoreTimeoutError);
      expect(read.ms).toBeLessThan(300 + SLACK_MS);
      expect(small.waitingCount).toBe(1); // the store's checkout, still queued in the pool
      for (const client of held) client.release();
      await until(async () => {
        if (small.waitingCount !== 0 || small.idleCount !== 2) throw new Error('pool still busy');
      }, 2000);
      expect((await tight.read('frozen'))?.toString()).toBe('kept');
      measured.push(`exhausted pool, timeout 300: read rejected after ${read.ms.toFixed(0)} ms`);
    } finally {
      await tight.close();
      await small.end();
    }
  });

  it('killed (SIGKILL): reads and writes fail within the budget; after a restart the store recovers, data intact', async () => {
    await store.write('survivor', bytes('committed before the crash'), 3600, 600);
    await server.kill();
    const read = await timed(store.read('survivor'));
    const write = await timed(store.write('k', bytes('x'), 3600, 60));
    for (const op of [read, write]) {
      expect(op.error).toBeDefined();
      expect(op.ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    }
    const downAt = performance.now();
    await server.restart();
    const restartedIn = performance.now() - downAt;
    const recovered = await until(() => store.write('after', bytes('back'), 3600, 60), 10000);
    expect((await store.read('after'))?.toString()).toBe('back');
    expect((await store.read('survivor'))?.toString()).toBe('committed before the crash');
    measured.push(
      `killed: read rejected after ${read.ms.toFixed(0)} ms (${(read.error as Error).message.slice(0, 60)}), write after ${write.ms.toFixed(0)} ms; ` +
        `restart took ${restartedIn.toFixed(0)} ms, first write ${recovered.ms.toFixed(0)} ms after it`,
    );
  }, 30000);

  it('stopped (clean shutdown): operations fail within the budget; after a start the store recovers, data intact', async () => {
    await store.write('stays', bytes('on disk'), 3600, 600);
    await server.shutdown();
    const read = await timed(store.read('stays'));
    const touch = await timed(store.touch('stays', 60));
    for (const op of [read, touch]) {
      expect(op.error).toBeDefined();
      expect(op.ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    }
    await server.restart();
    const recovered = await until(() => store.read('stays'), 10000);
    expect(recovered.value?.toString()).toBe('on disk');
    measured.push(
      `stopped: read rejected after ${read.ms.toFixed(0)} ms (${(read.error as Error).message.slice(0, 60)}); ` +
        `after start, read in ${recovered.ms.toFixed(0)} ms`,
    );
  }, 30000);

  it('a server that was never there fails within the budget', async () => {
    const orphan = testPool({ ...server.config, port: await freePort() });
    const lost = new PostgresStore({ pool: orphan, timeout: 500, pruneInterval: false });
    try {
      const read = await timed(lost.read('x'));
      expect(read.error).toBeDefined();
      expect(read.ms).toBeLessThan(500 + SLACK_MS);
    } finally {
      await lost.close();
      await orphan.end();
    }
  });
});

@Controller()
class FailureController {
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('health') health() {
    return { ok: true };
  }
}

function appModule(store: () => PostgresStore, storeFailure: 'reject' | 'anonymous') {
  @Module({
    imports: [
      SessionModule.forRootAsync({
        // The pool exists only once the server is up (beforeAll), so the options are built late.
        useFactory: () => ({ secret: SECRET, store: store(), storeFailure, cookie: { secure: false }, logger: false }),
      }),
    ],
    controllers: [FailureController],
  })
  class PostgresFailureApp {}
  return PostgresFailureApp;
}

const sid = (res: { headers: Record<string, unknown> }) => setCookies(res).filter((c) => c.startsWith('sid='));

describe.each(PLATFORMS)('PostgreSQL failure through the HTTP app (%s)', (platform) => {
  describePostgresServer('the storeFailure outcome within the budget, and recovery', () => {
    let server: PostgresServer;
    let pool: pg.Pool;
    let store: PostgresStore;
    let rejecting: INestApplication;
    let anonymous: INestApplication;

    beforeAll(async () => {
      server = await startPostgresServer();
      pool = testPool(server.config);
      store = new PostgresStore({ pool, table: 'sessions', createTable: true, pruneInterval: false });
      rejecting = await startApp(appModule(() => store, 'reject'), platform);
      anonymous = await startApp(appModule(() => store, 'anonymous'), platform);
    }, 60000);

    afterEach(() => server?.resume());

    afterAll(async () => {
      await rejecting?.close();
      await anonymous?.close();
      await store?.close();
      await pool?.end().catch(() => undefined);
      await server?.stop();
    });

    it('frozen: reject answers 503 and anonymous an empty, unsaved session, both within the budget and with no cookie; then it all works again', async () => {
      const cookie = sessionCookie(await http(rejecting).get('/count').expect(200, { count: 1 }))!;
      server.pause();
      try {
        const start = performance.now();
        const refused = await http(rejecting).get('/count').set('Cookie', cookie);
        const refusedMs = performance.now() - start;
        expect(refused.status).toBe(503);
        expect(refused.body.message).toMatch(/session store unavailable/i);
        expect(sid(refused)).toEqual([]);
        expect(refusedMs).toBeLessThan(BUDGET_MS + SLACK_MS + 200);
        const anonStart = performance.now();
        const anon = await http(anonymous).get('/count').set('Cookie', cookie);
        const anonMs = performance.now() - anonStart;
        expect(anon.status).toBe(200);
        expect(anon.body).toEqual({ count: 1 });
        expect(sid(anon)).toEqual([]);
        expect(anonMs).toBeLessThan(BUDGET_MS + SLACK_MS + 200);
        const health = await timed(http(rejecting).get('/health').then((r) => r));
        expect(health.value?.status).toBe(200);
        expect(health.ms).toBeLessThan(300);
        measured.push(`HTTP (${platform}), SIGSTOP: reject 503 after ${refusedMs.toFixed(0)} ms, anonymous 200 after ${anonMs.toFixed(0)} ms`);
      } finally {
        server.resume();
      }
      // Nothing was written during the freeze, and nothing was lost.
      const back = await until(async () => {
        const res = await http(rejecting).get('/count').set('Cookie', cookie);
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        return res.body;
      }, 5000);
      expect(back.value).toEqual({ count: 2 });
    }, 20000);

    it('killed: 503 within the budget with no cookie; after a restart the session is still there', async () => {
      const cookie = sessionCookie(await http(rejecting).get('/count').expect(200, { count: 1 }))!;
      await server.kill();
      const start = performance.now();
      const refused = await http(rejecting).get('/count').set('Cookie', cookie);
      const ms = performance.now() - start;
      expect(refused.status).toBe(503);
      expect(sid(refused)).toEqual([]);
      expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS + 200);
      await server.restart();
      const back = await until(async () => {
        const res = await http(rejecting).get('/count').set('Cookie', cookie);
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        return res.body;
      }, 10000);
      expect(back.value).toEqual({ count: 2 });
      measured.push(`HTTP (${platform}), SIGKILL: 503 after ${ms.toFixed(0)} ms; after restart, 200 in ${back.ms.toFixed(0)} ms`);
    }, 30000);
  });
});
