import type { LoggerService, Type } from '@nestjs/common';
import type { Encryptor } from './encryptor.interface.js';
import type { Serializer } from './serializer.interface.js';
import type { SessionStore } from './session-store.interface.js';
import type { ExpressSessionStoreLike, LegacyRedisClient, LegacySessionSource } from '../legacy/legacy-session.source.js';

export type SameSite = 'lax' | 'strict' | 'none';
export type CookiePriority = 'low' | 'medium' | 'high';
export type StoreFailureMode = 'reject' | 'anonymous';
export type AutoloadPaths = readonly (string | RegExp)[];

/** A request as the platform hands it over (Express `Request` or Fastify `FastifyRequest`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PlatformRequest = any;

export interface SessionCookieOptions {
  /** Cookie name, an RFC 6265 token. `__Host-`/`__Secure-` prefixes are checked at startup. Default `'sid'`. */
  name?: string;
  /** Default `'/'`. */
  path?: string;
  /** Default: none (host-only cookie). */
  domain?: string;
  /** Default `'lax'`. `'none'` requires `secure`. */
  sameSite?: SameSite;
  /** Default `true`. */
  secure?: boolean;
  /** Default `true`. */
  httpOnly?: boolean;
  /** Default: not set. */
  partitioned?: boolean;
  /** Default: not set. */
  priority?: CookiePriority;
}

/** CSRF protection (synchronizer token): where a request carries its token. */
export interface SessionCsrfOptions {
  /** Request header holding the token. Default `'x-csrf-token'`. */
  header?: string;
  /** Form (or JSON body) field holding the token. Default `'_csrf'`. */
  field?: string;
}

/**
 * Accepting express-session's sessions while moving to this module (zero-logout migration):
 * its cookie under its old name and secret(s), its records from where they are kept. Each is
 * moved to this module's format on first use.
 */
export interface LegacySessionOptions {
  /** express-session's cookie name. Default `'connect.sid'`. */
  cookieName?: string;
  /** express-session's `secret` (one, or a list: all verify). */
  secret: string | readonly string[];
  /** Where the old records are: `connectRedisSource({ client })` or `expressSessionStoreSource(store)`. */
  source?: LegacySessionSource;
  /** Or the express-session store itself (connect-redis, connect-pg-simple, …): read through its get/destroy. */
  store?: ExpressSessionStoreLike;
  /** Or the Redis client connect-redis used (ioredis or node-redis), with its key `prefix` (default `'sess:'`). */
  client?: LegacyRedisClient;
  prefix?: string;
  /** Path (and domain) of the old cookie, to clear it. Default `'/'` (express-session's default). */
  cookiePath?: string;
  cookieDomain?: string;
}

export interface SessionModuleOptions {
  /** HMAC key(s), each at least 32 characters. The first signs; all verify (rotation). */
  secret: string | readonly string[];
  /** A store instance, or a class that Nest DI instantiates. Default `new MemoryStore()`. */
  store?: SessionStore | Type<SessionStore>;
  /** Seconds. `0` means a browser-session cookie. Default 1209600 (14 days). */
  lifetime?: number;
  /** `false`: absolute expiry from creation; `true`: idle expiry from the last request. Default `false`. */
  rolling?: boolean;
  /** Absolute cap in seconds from creation, enforced even when rolling. Default: none. */
  maxLifetime?: number;
  /** Seconds the server keeps a `lifetime: 0` session after its last write. Default 2592000 (30 days). */
  fallbackTtl?: number;
  /** Load the session for every request (`true`) or for matching paths. Default `false`. */
  autoload?: boolean | AutoloadPaths;
  cookie?: SessionCookieOptions;
  /** Default: JSON. */
  serializer?: Serializer;
  /** Default: none. */
  encryptor?: Encryptor;
  /** A header name (matched case-insensitively, any value) or a predicate: no session handling at all. */
  skip?: string | ((req: PlatformRequest) => boolean);
  /** Request property holding the loaded data. Default `'session'`. */
  requestProperty?: string;
  /** Default `new Logger('Session')`; `false` silences the module. */
  logger?: LoggerService | false;
  /** What a failing store read does. Default `'reject'` (503). */
  storeFailure?: StoreFailureMode;
  /** Where CSRF tokens are looked for (`CsrfGuard`). Defaults: header `x-csrf-token`, field `_csrf`. */
  csrf?: SessionCsrfOptions;
  /** Opt-in: accept express-session's cookies and records, moving each session on first use. */
  legacy?: LegacySessionOptions;
}

/** The options after validation, with every default applied (what `SESSION_OPTIONS` holds). */
export interface ResolvedSessionOptions {
  readonly secret: readonly string[];
  readonly store: SessionStore | Type<SessionStore>;
  readonly lifetime: number;
  readonly rolling: boolean;
  readonly maxLifetime: number | undefined;
  readonly fallbackTtl: number;
  readonly autoload: boolean | AutoloadPaths;
  readonly cookie: Readonly<Required<Pick<SessionCookieOptions, 'name' | 'path' | 'sameSite' | 'secure' | 'httpOnly'>>> &
    Readonly<Pick<SessionCookieOptions, 'domain' | 'partitioned' | 'priority'>>;
  readonly serializer: Serializer;
  readonly encryptor: Encryptor | undefined;
  readonly skip: string | ((req: PlatformRequest) => boolean) | undefined;
  readonly requestProperty: string;
  readonly logger: LoggerService | false;
  readonly storeFailure: StoreFailureMode;
  readonly csrf: Readonly<Required<SessionCsrfOptions>>;
  readonly legacy:
    | (Readonly<Required<Pick<LegacySessionOptions, 'cookieName' | 'source' | 'cookiePath'>>> & {
        readonly secret: readonly string[];
        readonly cookieDomain: string | undefined;
      })
    | undefined;
}

/** A class for `forRootAsync({ useClass })` / `useExisting`. */
export interface SessionOptionsFactory {
  createSessionOptions?(): SessionModuleOptions | Promise<SessionModuleOptions>;
  /** Accepted too: the method name ConfigurableModuleBuilder uses. */
  create?(): SessionModuleOptions | Promise<SessionModuleOptions>;
}
