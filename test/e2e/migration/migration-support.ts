/**
 * The "old app" of a zero-logout migration (SPEC §11.3): a real Express app running the real
 * express-session with connect-redis (node-redis client), as apps moving to this module run
 * today. nestjs-session is a thin Nest wrapper around express-session (its options are
 * express-session's, nested under `session`), so its apps write the very same `connect.sid`
 * cookie and the same connect-redis records: what migrates from this app migrates from theirs.
 * (nestjs-session itself is not installed: its only release, 3.0.1, depends on
 * create-nestjs-middleware-module, whose peer range stops at @nestjs/common 11 and which would
 * pull a second, nested @nestjs/common 10 into this Nest 12 project.)
 */
import { Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import request from 'supertest';
import {
  Session,
  SessionModule,
  type LegacySessionOptions,
  type LegacySessionSource,
  type SessionData,
  type SessionStore,
  type StoreFailureMode,
} from '../../../src/index.js';
import type { RedisServer } from '../../support/redis-server.js';
import { SECRET, setCookies } from '../../support/session-app.js';

/** express-session's current secret, and the one it replaced (still in its list). */
export const LEGACY_SECRET = 'the express-session secret of the old app (32+ chars)';
export const LEGACY_OLD_SECRET = 'the express-session secret before the last rotation';
/** The secret of some other app: its cookies must not be accepted. */
export const FOREIGN_SECRET = 'a secret the Nest app has never been told about';

/** What the old app stores at login: Passport's shape plus app data. */
export const OLD_DATA = { passport: { user: 'u1' }, visits: 3, cart: [{ sku: 'A-1', qty: 2 }], theme: 'dark' };

type AnySession = Record<string, unknown> & { cookie: session.Cookie };

/**
 * A real express-session app. `GET /login?maxAge=` stores OLD_DATA (maxAge in ms; none: a
 * browser-session cookie); `GET /whoami` shows what the old app itself sees.
 */
export function legacyExpressApp(store: session.Store, secret: string | string[]) {
  const app = express();
  app.use(session({ store, secret, resave: false, saveUninitialized: false, name: 'connect.sid' }));
  app.get('/login', (req, res) => {
    const s = req.session as unknown as AnySession;
    if (req.query['maxAge'] !== undefined) s.cookie.maxAge = Number(req.query['maxAge']);
    Object.assign(s, structuredClone(OLD_DATA));
    res.json({ id: req.sessionID });
  });
  app.get('/whoami', (req, res) => {
    const { cookie: _cookie, ...data } = req.session as unknown as AnySession;
    res.json(data);
  });
  return app;
}

export interface LegacyLogin {
  /** `connect.sid=s%3A<id>.<signature>`, as a browser sends it back. */
  cookie: string;
  /** The express-session session ID (the Redis key is `sess:<id>`). */
  id: string;
}

/** Logs in on the old app; the cookie is taken from its real Set-Cookie header. */
export async function legacyLogin(app: express.Express, maxAge?: number): Promise<LegacyLogin> {
  const response = await request(app).get('/login').query(maxAge === undefined ? {} : { maxAge }).expect(200);
  const header = setCookies(response).find((c) => c.startsWith('connect.sid='));
  if (!header) throw new Error('express-session set no connect.sid cookie');
  const cookie = header.split(';')[0]!;
  if (!/^connect\.sid=s%3A/.test(cookie)) throw new Error(`unexpected express-session cookie ${cookie}`);
  return { cookie, id: (response.body as { id: string }).id };
}

function newNodeRedis(server: RedisServer) {
  return createClient({ socket: { host: server.host, port: server.port, reconnectStrategy: false } });
}
export type NodeRedis = ReturnType<typeof newNodeRedis>;

/** A connected node-redis client of `server` that does not reconnect (so a stopped server fails fast). */
export async function nodeRedisClient(server: RedisServer): Promise<NodeRedis> {
  const client = newNodeRedis(server);
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The connect-redis store of the old app (default prefix `sess:`). */
export function legacyStore(client: unknown): RedisStore {
  return new RedisStore({ client });
}

/** The `Set-Cookie` line that clears express-session's cookie, if the response has one. */
export function legacyClearing(res: { headers: Record<string, unknown> }): string | undefined {
  return setCookies(res).find((c) => c.startsWith('connect.sid='));
}

/** Asserts the line is a well-formed clearing of `connect.sid` at path `/`. */
export function isClearingOfConnectSid(line: string | undefined): boolean {
  return (
    line !== undefined &&
    line.startsWith('connect.sid=;') &&
    /;\s*Max-Age=0(;|$)/i.test(line) &&
    /;\s*Path=\/(;|$)/i.test(line) &&
    /;\s*Expires=Thu, 01 Jan 1970 00:00:00 GMT/i.test(line)
  );
}

/** The real source, with its calls counted (it only delegates). */
export interface CountedSource extends LegacySessionSource {
  readonly calls: { get: string[]; destroy: string[] };
}

export function counted(source: LegacySessionSource): CountedSource {
  const calls = { get: [] as string[], destroy: [] as string[] };
  return {
    calls,
    get: (id) => {
      calls.get.push(id);
      return source.get(id);
    },
    destroy: (id) => {
      calls.destroy.push(id);
      return source.destroy(id);
    },
  };
}

@Controller()
class MigrationController {
  /** Read-only: loads the session and changes nothing. */
  @Get('me') me(@Session() session: SessionData) {
    return { data: { ...session }, keys: Object.keys(session) };
  }
  @Post('visit')
  @HttpCode(200)
  visit(@Session() session: SessionData) {
    session.visits = Number(session.visits ?? 0) + 1;
    return { data: { ...session } };
  }
  /** Never touches the session. */
  @Get('lazy') lazy() {
    return { ok: true };
  }
}

export interface NestSideOptions {
  source: LegacySessionSource;
  /** Instead of `source`: the other forms the option takes (`{ store }`, `{ client, prefix }`). */
  legacy?: Partial<LegacySessionOptions>;
  store: SessionStore;
  legacySecret?: string | string[];
  storeFailure?: StoreFailureMode;
}

/** The new Nest app: this module with `legacy` pointing at the old app's sessions. */
export function migratingModule({ source, legacy, store, legacySecret = [LEGACY_SECRET, LEGACY_OLD_SECRET], storeFailure }: NestSideOptions) {
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store,
        cookie: { secure: false },
        logger: false,
        storeFailure,
        legacy: { secret: legacySecret, ...(legacy ?? { source }) },
      }),
    ],
    controllers: [MigrationController],
  })
  class MigratingAppModule {}
  return MigratingAppModule;
}
