// One benchmark variant as its own process: `node apps/server.mjs <variant>`.
// Started by run.mjs / memory.mjs / profile.mjs with an IPC channel: it answers on 127.0.0.1, a
// port of its own choosing (listen(0)), and reports it with {type: 'ready', port}.
//
// Every variant is a Nest 12 app on Express 5 with the same four routes:
//   GET  /noop   handler ignores the session (the load generator sends a valid session cookie)
//   GET  /read   reads `n` from an existing session
//   POST /write  increments `n` of an existing session
//   POST /new    creates a new session (no cookie is sent): stores newSessionData()
// Plain JavaScript (no build step for the bench): decorators are applied with Reflect.decorate,
// which is what TypeScript's emitted __decorate helper does.
import 'reflect-metadata';
import { Controller, Get, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pathToFileURL } from 'node:url';
import { AES_KEY, LIFETIME_MS, SECRET, newSessionData } from '../lib/session-data.mjs';

const variant = process.argv[2];
// The library under test: the repo's build output, or (BENCH_LIB=/abs/dir/) another build of it,
// e.g. a patched copy for an A/B comparison (see ab.mjs).
const LIB = process.env.BENCH_LIB ? pathToFileURL(process.env.BENCH_LIB.replace(/\/?$/, '/')) : new URL('../../dist/', import.meta.url);
const redisPort = Number(process.env.BENCH_REDIS_PORT);

/**
 * Store operations per kind, counted by wrapping the store instance's own methods. Only calls
 * from outside the store count (MemoryStore.update calls this.write itself: one operation).
 */
const storeCalls = {};
let insideStore = 0;
function countCalls(store, methods) {
  for (const method of methods) {
    const original = store[method];
    if (typeof original !== 'function') continue;
    storeCalls[method] = 0;
    store[method] = function counted(...args) {
      if (insideStore === 0) storeCalls[method]++;
      insideStore++;
      try {
        return original.apply(this, args);
      } finally {
        insideStore--;
      }
    };
  }
  return store;
}

/** The store interface's operations (optional capabilities included) that the module may call. */
const STORE_OPERATIONS = [
  'read', 'write', 'update', 'remove', 'touch', 'readFields', 'patch', 'acquireLock', 'releaseLock',
  'indexUserSession', 'listUserSessions', 'unindexUserSession', 'resolveUserSession', 'encodeSync',
];

/**
 * Redis commands the app sent (client side, so one per round trip; commands a Lua script runs
 * inside Redis are not round trips). Every ioredis command goes through sendCommand.
 */
const redisCommands = {};
function countRedisCommands(client) {
  const send = client.sendCommand;
  client.sendCommand = function counted(command, ...rest) {
    const name = String(command?.name ?? '?').toLowerCase();
    redisCommands[name] = (redisCommands[name] ?? 0) + 1;
    return send.call(this, command, ...rest);
  };
  return client;
}

function decorateMethod(cls, method, decorators, params = []) {
  const proto = cls.prototype;
  params.forEach((param, index) => param(proto, method, index));
  const descriptor = Object.getOwnPropertyDescriptor(proto, method);
  Object.defineProperty(proto, method, Reflect.decorate(decorators, proto, method, descriptor) ?? descriptor);
}

/** The four routes; `param` is the parameter decorator handing the handler its session (or none). */
function makeController(param, handlers) {
  class BenchController {}
  Object.assign(BenchController.prototype, handlers);
  const p = param ? [param] : [];
  decorateMethod(BenchController, 'noop', [Get('noop')]);
  decorateMethod(BenchController, 'read', [Get('read')], p);
  decorateMethod(BenchController, 'write', [Post('write')], p);
  decorateMethod(BenchController, 'new', [Post('new')], p);
  return Reflect.decorate([Controller()], BenchController);
}

function makeModule(imports, controller) {
  class AppModule {}
  return Reflect.decorate([Module({ imports, controllers: [controller] })], AppModule);
}

const OK = { ok: true };

/** The handlers of every variant whose handlers get the session object as their parameter. */
const SESSION_HANDLERS = {
  noop: () => OK,
  read: (s) => ({ n: s.n }),
  write: (s) => ({ n: ++s.n }),
  new: (s) => {
    Object.assign(s, newSessionData());
    return { n: s.n };
  },
};

/**
 * SQL statements the app sent to PostgreSQL, by their first word (one per round trip), in the
 * same table as Redis commands: both are the store's round trips per request.
 */
function countQueries(pool) {
  // At the client: PostgresStore checks a client out and queries it; pool.query does the same inside.
  const wrap = (client) => {
    if (client.countedQuery) return;
    const query = client.query;
    client.countedQuery = true;
    client.query = function counted(config, ...rest) {
      const text = typeof config === 'string' ? config : String(config?.text ?? '');
      const name = `sql ${(/^\s*(\w+)/.exec(text)?.[1] ?? '?').toLowerCase()}`;
      redisCommands[name] = (redisCommands[name] ?? 0) + 1;
      return query.call(this, config, ...rest);
    };
  };
  for (const client of pool._clients ?? []) wrap(client);
  pool.on('connect', wrap);
  return pool;
}

/** An ioredis client on the bench's redis-server, its commands counted. */
async function benchRedis() {
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 1 });
  await client.ping();
  return countRedisCommands(client);
}

/** A pg Pool on the machine's PostgreSQL (BENCH_PG_URL, default the local `test` database). */
async function benchPool() {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 10 });
  pool.on('error', () => {});
  return pool;
}

// ---- variants --------------------------------------------------------------------------------

async function bare() {
  const controller = makeController(null, {
    noop: () => OK,
    read: () => ({ n: 0 }),
    write: () => ({ n: 1 }),
    new: () => ({ n: newSessionData().n }),
  });
  return { module: makeModule([], controller) };
}

/**
 * The bare app plus one global interceptor that does nothing (`return next.handle()`): the floor
 * for any module that, like ours (SPEC §1), works through a global interceptor. Nest runs its
 * interceptor chain (rxjs) for every route once any global interceptor exists.
 */
async function bareInterceptor() {
  const { APP_INTERCEPTOR } = await import('@nestjs/core');
  const { Injectable } = await import('@nestjs/common');
  class PassThroughInterceptor {
    intercept(_context, next) {
      return next.handle();
    }
  }
  Reflect.decorate([Injectable()], PassThroughInterceptor);
  const { module } = await bare();
  class FloorModule {}
  Reflect.decorate([Module({ imports: [module], providers: [{ provide: APP_INTERCEPTOR, useClass: PassThroughInterceptor }] })], FloorModule);
  return { module: FloorModule };
}

/**
 * The least a session module that works through a global interceptor (SPEC §1) must do, and
 * nothing more: the lower bound of that design, not a usable module. For a route whose handler
 * takes the session: the cookie parsed and its signature checked (HMAC, constant-time compare,
 * verified cookies cached as ours caches them), one store read and one JSON.parse; after the
 * handler one JSON.stringify to see whether the session changed; a changed or new session
 * written as one string (Redis: `SET … PX`) and its cookie set with Max-Age, as the others send
 * it. No server-side expiry check, no per-key merge, no guard against recreating a destroyed
 * record, no events, no secret rotation, no error handling, no express-session API on the
 * object: everything else ours (and express-session, mostly) does.
 */
async function minimalSession(storeKind) {
  const { APP_INTERCEPTOR } = await import('@nestjs/core');
  const { Injectable, createParamDecorator } = await import('@nestjs/common');
  const { from, map, mergeMap } = await import('rxjs');
  const cookie = await import('cookie');
  const { createHmac, randomBytes, timingSafeEqual } = await import('node:crypto');
  const ttl = LIFETIME_MS;
  let store;
  let close = async () => {};
  if (storeKind === 'memory') {
    store = new Map();
  } else {
    const client = await benchRedis();
    store = { get: (id) => client.get(`min:${id}`), set: (id, text) => client.set(`min:${id}`, text, 'PX', ttl) };
    close = async () => void (await client.quit());
  }
  const sign = (id) => createHmac('sha256', SECRET).update(id).digest('base64url');
  const verified = new Map();
  const idOf = (req) => {
    const value = cookie.parse(req.headers.cookie ?? '').sid;
    if (value === undefined) return undefined;
    let id = verified.get(value);
    if (id !== undefined) return id;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(sign(id));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (verified.size >= 10_000) verified.clear();
    verified.set(value, id);
    return id;
  };
  const STATE = Symbol('minimal.session');
  const loaded = (req, id, text) => (req[STATE] = text == null ? { id: undefined, text: undefined, data: {} } : { id, text, data: JSON.parse(text) });
  const commit = (req, res) => {
    const state = req[STATE];
    const text = JSON.stringify(state.data);
    if (text === state.text || (state.id === undefined && text === '{}')) return undefined;
    const id = (state.id ??= randomBytes(24).toString('base64url'));
    res.append('Set-Cookie', cookie.serialize('sid', `${id}.${sign(id)}`, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: ttl / 1000 }));
    return store.set(id, text);
  };
  class MinimalSessionInterceptor {
    intercept(context, next) {
      // In this app a handler that takes an argument takes the session (a real module reads its
      // decorator's metadata once per route).
      if (context.getHandler().length === 0) return next.handle();
      const req = context.getArgByIndex(0);
      const res = context.getArgByIndex(1);
      const id = idOf(req);
      if (storeKind === 'memory') {
        loaded(req, id, id === undefined ? undefined : store.get(id));
        return next.handle().pipe(map((value) => (commit(req, res), value)));
      }
      const read = id === undefined ? Promise.resolve(null) : store.get(id);
      return from(read).pipe(
        mergeMap((text) => (loaded(req, id, text), next.handle())),
        mergeMap(async (value) => (await commit(req, res), value)),
      );
    }
  }
  Reflect.decorate([Injectable()], MinimalSessionInterceptor);
  const MinimalSession = createParamDecorator((_key, context) => context.switchToHttp().getRequest()[STATE].data);
  const controller = makeController(MinimalSession(), SESSION_HANDLERS);
  class MinimalModule {}
  Reflect.decorate([Module({ controllers: [controller], providers: [{ provide: APP_INTERCEPTOR, useClass: MinimalSessionInterceptor }] })], MinimalModule);
  return { module: MinimalModule, store: storeKind === 'memory' ? store : undefined, close };
}

/** express-session mounted with app.use(), handlers read req.session. */
async function expressSession(storeKind) {
  const { default: session } = await import('express-session');
  let store;
  let close = async () => {};
  if (storeKind === 'memory') {
    store = new session.MemoryStore();
  } else if (storeKind === 'postgres') {
    const { default: pgSession } = await import('connect-pg-simple');
    const pool = await benchPool();
    await pool.query('DROP TABLE IF EXISTS bench_es_sessions');
    const PgStore = pgSession(session);
    store = new PgStore({ pool, tableName: 'bench_es_sessions', createTableIfMissing: true, pruneSessionInterval: false });
    // Counted once the table exists: connect-pg-simple creates it on its first call.
    await new Promise((resolve, reject) => store.get('warm-up', (error) => (error ? reject(error) : resolve())));
    countQueries(pool);
    close = async () => void (await pool.end());
  } else {
    const { RedisStore } = await import('connect-redis');
    const client = await benchRedis();
    store = new RedisStore({ client, prefix: 'es:' });
    close = async () => void (await client.quit());
  }
  countCalls(store, ['get', 'set', 'touch', 'destroy']);
  const controller = makeController(Req(), {
    noop: () => OK,
    read: (req) => ({ n: req.session.n }),
    write: (req) => ({ n: ++req.session.n }),
    new: (req) => {
      Object.assign(req.session, newSessionData());
      return { n: req.session.n };
    },
  });
  const middleware = session({
    secret: SECRET,
    name: 'sid',
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: LIFETIME_MS },
  });
  return { module: makeModule([], controller), middleware, close, store };
}

/** @sessionkit/nest from the repo's build output (../dist), handlers take @Session(). */
async function ours(storeKind) {
  const lib = await import(new URL('index.js', LIB).href);
  const { SessionModule, Session, MemoryStore, CookieStore, AesGcmEncryptor } = lib;
  const options = { secret: SECRET, cookie: { secure: false } };
  let close = async () => {};
  if (storeKind === 'memory') {
    options.store = new MemoryStore();
  } else if (storeKind === 'postgres') {
    const { PostgresStore } = await import(new URL('postgres/index.js', LIB).href);
    const pool = await benchPool();
    await pool.query('DROP TABLE IF EXISTS bench_sk_sessions, bench_sk_sessions_users, bench_sk_sessions_locks');
    options.store = new PostgresStore({ pool, table: 'bench_sk_sessions', createTable: true, pruneInterval: false });
    await options.store.read('warm-up', 0);
    countQueries(pool);
    close = async () => void (await pool.end());
  } else if (storeKind === 'cookie') {
    options.store = new CookieStore();
    options.encryptor = new AesGcmEncryptor(AES_KEY);
  } else {
    const { RedisStore } = await import(new URL('redis/index.js', LIB).href);
    const client = await benchRedis();
    options.store = new RedisStore({ client, prefix: 'sk:' });
    close = async () => void (await client.quit());
  }
  countCalls(options.store, STORE_OPERATIONS);
  const controller = makeController(Session(), SESSION_HANDLERS);
  return { module: makeModule([SessionModule.forRoot(options)], controller), close, store: options.store };
}

/**
 * ours('memory') with Passport installed in the lazy style (issue 13): PassportModule, a
 * serializer, and PassportSessionGuard on a login-only route. The four bench routes carry no
 * guard, so they must cost what ours-memory costs (0 store calls on /noop).
 */
async function oursPassport() {
  const { module, store } = await ours('memory');
  const { PassportModule, PassportSerializer } = await import('@nestjs/passport');
  const { Injectable, UseGuards } = await import('@nestjs/common');
  const { PassportSessionGuard } = await import(new URL('passport/index.js', LIB).href);
  class Serializer extends PassportSerializer {
    serializeUser(user, done) {
      done(null, user.id);
    }
    deserializeUser(id, done) {
      done(null, { id });
    }
  }
  Reflect.decorate([Injectable()], Serializer);
  class AccountController {
    me(req) {
      return { user: req.user ?? null };
    }
  }
  decorateMethod(AccountController, 'me', [Get('me'), UseGuards(PassportSessionGuard)], [Req()]);
  Reflect.decorate([Controller()], AccountController);
  class PassportBenchModule {}
  Reflect.decorate(
    [Module({ imports: [module, PassportModule.register({ session: true })], controllers: [AccountController], providers: [Serializer] })],
    PassportBenchModule,
  );
  return { module: PassportBenchModule, store };
}

export const VARIANTS = {
  bare: () => bare(),
  'bare-interceptor': () => bareInterceptor(),
  'minimal-memory': () => minimalSession('memory'),
  'minimal-redis': () => minimalSession('redis'),
  'es-memory': () => expressSession('memory'),
  'es-redis': () => expressSession('redis'),
  'es-postgres': () => expressSession('postgres'),
  'ours-memory': () => ours('memory'),
  'ours-cookie': () => ours('cookie'),
  'ours-redis': () => ours('redis'),
  'ours-postgres': () => ours('postgres'),
  'ours-passport': () => oursPassport(),
};

// ---- process ---------------------------------------------------------------------------------

/** An inspector session on this process, with a promise-returning `postAsync(method, params)`. */
async function inspectorSession() {
  const inspector = await import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  session.postAsync = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  return session;
}

async function main() {
  const make = VARIANTS[variant];
  if (!make) throw new Error(`unknown variant "${variant}"; one of ${Object.keys(VARIANTS).join(', ')}`);
  const built = await make();
  // Warnings and errors only: the module logs each new session at `log` level, which the app's
  // logger filters out, as a production app typically does.
  const app = await NestFactory.create(built.module, { logger: ['error', 'warn'] });
  if (built.middleware) app.use(built.middleware);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  // Requests answered, counted by the server (autocannon does not count the ones in flight when
  // a run stops, which still reach the store): the denominator of store calls per request.
  let served = 0;
  app.getHttpServer().on('request', () => void served++);

  // Garbage collections since start, by kind (what `--trace-gc` prints, counted): per request
  // they show how much the variant allocates.
  const gc = { minor: 0, major: 0, incremental: 0, weak: 0, ms: 0 };
  const { PerformanceObserver, constants: perf } = await import('node:perf_hooks');
  const GC_KINDS = {
    [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc[GC_KINDS[entry.detail?.kind] ?? 'minor']++;
      gc.ms += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });

  let profiler;
  process.on('message', async (message) => {
    try {
      switch (message.type) {
        case 'stats':
          process.send({
            type: 'stats',
            id: message.id,
            storeCalls: { ...storeCalls },
            redisCommands: { ...redisCommands },
            served,
            gc: { ...gc },
            storeSize: typeof built.store?.size === 'number' ? built.store.size : undefined,
          });
          break;
        case 'gc': {
          // memory.mjs: run with --expose-gc; several passes so weak and finalizable objects go too.
          for (let i = 0; i < 6; i++) {
            globalThis.gc();
            await new Promise((resolve) => setImmediate(resolve));
          }
          const usage = process.memoryUsage();
          let entries = typeof built.store?.size === 'number' ? built.store.size : undefined;
          if (entries === undefined && built.store?.sessions) entries = Object.keys(built.store.sessions).length;
          process.send({ type: 'gc', id: message.id, usage, storeSize: entries });
          break;
        }
        case 'profile-start': {
          // The same V8 sampling profiler as `node --cpu-prof`, started after warm-up so the
          // profile holds the steady state only (no bootstrap, no JIT warm-up).
          profiler = await inspectorSession();
          const post = profiler.postAsync;
          await post('Profiler.enable');
          await post('Profiler.setSamplingInterval', { interval: message.interval ?? 200 });
          await post('Profiler.start');
          process.send({ type: 'profile-start', id: message.id });
          break;
        }
        case 'profile-stop': {
          const { profile } = await profiler.postAsync('Profiler.stop');
          const { writeFileSync } = await import('node:fs');
          writeFileSync(message.file, JSON.stringify(profile));
          profiler.disconnect();
          process.send({ type: 'profile-stop', id: message.id });
          break;
        }
        case 'heap-start': {
          // V8's sampling heap profiler (what `node --heap-prof` writes), keeping the samples of
          // objects already collected: every allocation of the window, not only what survived it.
          profiler = await inspectorSession();
          await profiler.postAsync('HeapProfiler.enable');
          await profiler.postAsync('HeapProfiler.startSampling', {
            samplingInterval: message.interval ?? 1024,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          });
          process.send({ type: 'heap-start', id: message.id });
          break;
        }
        case 'heap-stop': {
          const { profile } = await profiler.postAsync('HeapProfiler.stopSampling');
          const { writeFileSync } = await import('node:fs');
          writeFileSync(message.file, JSON.stringify(profile));
          profiler.disconnect();
          process.send({ type: 'heap-stop', id: message.id });
          break;
        }
        case 'exit':
          await app.close();
          await built.close?.();
          process.exit(0);
      }
    } catch (error) {
      process.send({ type: 'error', id: message.id, message: String(error?.stack ?? error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port, pid: process.pid });
}

main().catch((error) => {
  console.error(`[${variant}]`, error);
  process.exit(1);
});
