import { Logger } from '@nestjs/common';
import {
  DEFAULT_COOKIE_NAME,
  DEFAULT_FALLBACK_TTL,
  DEFAULT_LIFETIME,
  MIN_SECRET_LENGTH,
} from '../session.constants.js';
import { SessionOptionsError } from '../errors/session.errors.js';
import type {
  ResolvedSessionOptions,
  SessionCookieOptions,
  SessionModuleOptions,
} from '../interfaces/session-options.interface.js';
import { JsonSerializer } from '../serializers/json.serializer.js';
import { MemoryStore } from '../stores/memory.store.js';
import { connectRedisSource, expressSessionStoreSource } from '../legacy/legacy-session.source.js';

const KNOWN_OPTIONS = new Set<string>([
  'secret', 'store', 'lifetime', 'rolling', 'maxLifetime', 'fallbackTtl', 'autoload', 'cookie',
  'serializer', 'encryptor', 'skip', 'requestProperty', 'logger', 'storeFailure', 'csrf', 'legacy',
]);
/**
 * express-session (and nestjs-session) option names, with what to use instead: someone moving
 * over is told, not just refused.
 */
const EXPRESS_SESSION_EQUIVALENTS: Readonly<Record<string, string>> = {
  resave: 'not needed: a session is saved only when it changed',
  saveUninitialized: 'not needed: an empty new session is never saved and sends no cookie',
  name: 'use `cookie.name`',
  genid: 'not supported: IDs are 192 random bits from crypto.randomBytes',
  proxy: "not needed: set Express's `trust proxy` (the cookie's Secure attribute is always sent as configured)",
  unset: 'not needed: `delete session.key`, or `destroy()` to end the session',
  session: 'pass the express-session options themselves (nestjs-session nests them under `session`)',
};
const COOKIE_EQUIVALENTS: Readonly<Record<string, string>> = {
  maxAge: 'use `lifetime` (in seconds, not milliseconds); per session: `session.cookie.maxAge` or `sessionService.setLifetime()`',
  expires: 'use `lifetime` (in seconds)',
};
const KNOWN_COOKIE_OPTIONS = new Set<string>([
  'name', 'path', 'domain', 'sameSite', 'secure', 'httpOnly', 'partitioned', 'priority',
]);
/** RFC 6265 cookie-name: an RFC 7230 token (visible ASCII without separators). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Path and domain attribute values: visible ASCII without `;` (no CR, LF, space, controls). */
const ATTRIBUTE_VALUE = /^[\x21-\x3a\x3c-\x7e]+$/;
const DOMAIN = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function fail(message: string): never {
  throw new SessionOptionsError(message);
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    fail(`\`${name}\` must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${JSON.stringify(value)}).`);
  }
  return value as T;
}

function bool(name: string, value: unknown, fallback: boolean): boolean;
function bool(name: string, value: unknown, fallback: undefined): boolean | undefined;
function bool(name: string, value: unknown, fallback: boolean | undefined): boolean | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`\`${name}\` must be a boolean (got ${typeof value}).`);
  return value;
}

function seconds(name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(`\`${name}\` must be a finite number of seconds ${allowZero ? '>= 0' : '> 0'} (got ${String(value)}).`);
  }
  return value;
}

function resolveSecrets(secret: unknown): readonly string[] {
  const list = typeof secret === 'string' ? [secret] : secret;
  if (!Array.isArray(list) || list.length === 0) {
    fail('`secret` is required: a string of at least 32 characters, or a non-empty array of them (the first signs, all verify).');
  }
  list.forEach((value: unknown, index: number) => {
    if (typeof value !== 'string') fail(`\`secret[${index}]\` must be a string.`);
    if (value.length < MIN_SECRET_LENGTH) {
      fail(
        `\`secret${list.length > 1 ? `[${index}]` : ''}\` must be at least ${MIN_SECRET_LENGTH} characters ` +
          `(got ${value.length}). Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
      );
    }
  });
  return Object.freeze([...(list as string[])]);
}

function resolveCookie(cookie: SessionCookieOptions | undefined): ResolvedSessionOptions['cookie'] {
  if (cookie !== undefined && (typeof cookie !== 'object' || cookie === null)) fail('`cookie` must be an object.');
  const raw = cookie ?? {};
  for (const key of Object.keys(raw)) {
    if (!KNOWN_COOKIE_OPTIONS.has(key)) {
      const hint = COOKIE_EQUIVALENTS[key];
      fail(`unknown option \`cookie.${key}\`${hint ? ` (an express-session option: ${hint})` : ''}.`);
    }
  }
  const name = raw.name ?? DEFAULT_COOKIE_NAME;
  if (typeof name !== 'string' || name.length === 0) fail('`cookie.name` must be a non-empty string.');
  if (!TOKEN.test(name)) {
    fail(`\`cookie.name\` ${JSON.stringify(name)} is not a valid cookie name (RFC 6265 token: visible ASCII, no separators).`);
  }
  const path = raw.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || !ATTRIBUTE_VALUE.test(path)) {
    fail(`\`cookie.path\` must start with "/" and contain no spaces, ";", CR, LF or control characters (got ${JSON.stringify(path)}).`);
  }
  const domain = raw.domain;
  if (domain !== undefined && (typeof domain !== 'string' || !ATTRIBUTE_VALUE.test(domain) || !DOMAIN.test(domain))) {
    fail(`\`cookie.domain\` must be a host name without spaces, ";", CR, LF or control characters (got ${JSON.stringify(domain)}).`);
  }
  const sameSite = oneOf('cookie.sameSite', raw.sameSite, ['lax', 'strict', 'none'] as const, 'lax');
  const secure = bool('cookie.secure', raw.secure, true);
  const httpOnly = bool('cookie.httpOnly', raw.httpOnly, true);
  const partitioned = bool('cookie.partitioned', raw.partitioned, undefined);
  const priority = raw.priority === undefined ? undefined : oneOf('cookie.priority', raw.priority, ['low', 'medium', 'high'] as const, 'medium');

  if (sameSite === 'none' && !secure) fail("`cookie.sameSite: 'none'` requires `cookie.secure: true` (browsers reject it otherwise).");
  if (partitioned && !secure) fail('`cookie.partitioned` requires `cookie.secure: true`.');
  // Browsers match the prefixes case-insensitively (RFC 6265bis §5.7): `__host-sid` gets the
  // `__Host-` rules too, and a cookie breaking them is silently dropped.
  const lowerName = name.toLowerCase();
  if (lowerName.startsWith('__secure-') && !secure) fail('a `__Secure-` cookie name (in any letter case) requires `cookie.secure: true`.');
  if (lowerName.startsWith('__host-')) {
    if (!secure) fail('a `__Host-` cookie name requires `cookie.secure: true`.');
    if (path !== '/') fail('a `__Host-` cookie name requires `cookie.path: "/"`.');
    if (domain !== undefined) fail('a `__Host-` cookie name forbids `cookie.domain`.');
  }
  return Object.freeze({ name, path, domain, sameSite, secure, httpOnly, partitioned, priority });
}

function resolveAutoload(autoload: unknown): ResolvedSessionOptions['autoload'] {
  if (autoload === undefined) return false;
  if (typeof autoload === 'boolean') return autoload;
  if (!Array.isArray(autoload)) fail('`autoload` must be a boolean or an array of path prefixes and RegExps.');
  autoload.forEach((entry: unknown, index: number) => {
    if (entry instanceof RegExp) return;
    if (typeof entry !== 'string' || !entry.startsWith('/')) {
      fail(`\`autoload[${index}]\` must be a path prefix starting with "/" or a RegExp (got ${JSON.stringify(entry)}).`);
    }
  });
  return Object.freeze([...autoload]);
}

function isStoreInstance(value: object): boolean {
  const store = value as Record<string, unknown>;
  return typeof store.read === 'function' && typeof store.write === 'function' && typeof store.remove === 'function';
}

/** Validates every option and applies the defaults. All errors surface here, at startup. */
export function resolveSessionOptions(options: SessionModuleOptions): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object with at least `secret`.');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      const hint = EXPRESS_SESSION_EQUIVALENTS[key];
      fail(`unknown option \`${key}\`${hint ? ` (an express-session option: ${hint})` : ''}.`);
    }
  }
  const secret = resolveSecrets(options.secret);

  const store = options.store ?? new MemoryStore();
  if (typeof store !== 'function' && (typeof store !== 'object' || store === null || !isStoreInstance(store))) {
    fail('`store` must be a SessionStore instance (with read, write and remove) or an injectable store class.');
  }

  const lifetime = seconds('lifetime', options.lifetime, DEFAULT_LIFETIME, true);
  const maxLifetime = options.maxLifetime === undefined ? undefined : seconds('maxLifetime', options.maxLifetime, 0, false);
  const fallbackTtl = seconds('fallbackTtl', options.fallbackTtl, DEFAULT_FALLBACK_TTL, false);
  const rolling = bool('rolling', options.rolling, false);

  const serializer = options.serializer ?? new JsonSerializer();
  if (typeof serializer?.serialize !== 'function' || typeof serializer?.deserialize !== 'function') {
    fail('`serializer` must have serialize() and deserialize() methods.');
  }
  const encryptor = options.encryptor;
  if (encryptor !== undefined && (typeof encryptor?.encrypt !== 'function' || typeof encryptor?.decrypt !== 'function')) {
    fail('`encryptor` must have encrypt() and decrypt() methods.');
  }

  const skip = options.skip;
  if (skip !== undefined && typeof skip !== 'function' && (typeof skip !== 'string' || !TOKEN.test(skip))) {
    fail('`skip` must be a header name or a function (req) => boolean.');
  }
  const requestProperty = options.requestProperty ?? 'session';
  if (typeof requestProperty !== 'string' || requestProperty.length === 0) fail('`requestProperty` must be a non-empty string.');

  const logger = options.logger === undefined ? new Logger('Session') : options.logger;
  if (logger !== false && (typeof logger !== 'object' || logger === null || typeof logger.log !== 'function' ||
      typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    fail('`logger` must be a Nest LoggerService (log, warn, error) or false.');
  }

  return Object.freeze({
    secret,
    store,
    lifetime,
    rolling,
    maxLifetime,
    fallbackTtl,
    autoload: resolveAutoload(options.autoload),
    cookie: resolveCookie(options.cookie),
    serializer,
    encryptor,
    skip: typeof skip === 'string' ? skip.toLowerCase() : skip,
    requestProperty,
    logger,
    storeFailure: oneOf('storeFailure', options.storeFailure, ['reject', 'anonymous'] as const, 'reject'),
    csrf: resolveCsrf(options.csrf),
    legacy: resolveLegacy(options.legacy),
  });
}

function resolveCsrf(csrf: SessionModuleOptions['csrf']): ResolvedSessionOptions['csrf'] {
  if (csrf !== undefined && (typeof csrf !== 'object' || csrf === null)) fail('`csrf` must be an object ({ header, field }).');
  for (const key of Object.keys(csrf ?? {})) if (key !== 'header' && key !== 'field') fail(`unknown option \`csrf.${key}\`.`);
  const header = csrf?.header ?? 'x-csrf-token';
  const field = csrf?.field ?? '_csrf';
  if (typeof header !== 'string' || !TOKEN.test(header)) fail('`csrf.header` must be a header name.');
  if (typeof field !== 'string' || field.length === 0) fail('`csrf.field` must be a non-empty string.');
  return Object.freeze({ header: header.toLowerCase(), field });
}

function resolveLegacy(legacy: SessionModuleOptions['legacy']): ResolvedSessionOptions['legacy'] {
  if (legacy === undefined) return undefined;
  if (typeof legacy !== 'object' || legacy === null) fail('`legacy` must be an object ({ secret, source, cookieName? }).');
  for (const key of Object.keys(legacy)) {
    if (!['cookieName', 'secret', 'source', 'store', 'client', 'prefix', 'cookiePath', 'cookieDomain'].includes(key)) fail(`unknown option \`legacy.${key}\`.`);
  }
  const secrets = typeof legacy.secret === 'string' ? [legacy.secret] : legacy.secret;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((value) => typeof value === 'string' && value.length > 0)) {
    fail("`legacy.secret` must be express-session's secret: a non-empty string, or a non-empty array of them.");
  }
  const given = [legacy.source, legacy.store, legacy.client].filter((value) => value !== undefined).length;
  if (given !== 1) fail('`legacy` needs exactly one of `source`, `store` (the express-session store) or `client` (the Redis client connect-redis used).');
  if (legacy.prefix !== undefined && (legacy.client === undefined || typeof legacy.prefix !== 'string')) fail('`legacy.prefix` is a string, with `legacy.client`.');
  for (const [name, value] of [['source', legacy.source], ['store', legacy.store], ['client', legacy.client]] as const) {
    const shape = value as { get?: unknown; destroy?: unknown; del?: unknown } | undefined;
    if (value !== undefined && (typeof shape?.get !== 'function' || typeof (name === 'client' ? shape?.del : shape?.destroy) !== 'function')) {
      fail(`\`legacy.${name}\` must have get() and ${name === 'client' ? 'del()' : 'destroy()'}.`);
    }
  }
  const source =
    legacy.source ??
    (legacy.store !== undefined ? expressSessionStoreSource(legacy.store) : connectRedisSource({ client: legacy.client!, prefix: legacy.prefix }));
  const cookieName = legacy.cookieName ?? 'connect.sid';
  if (typeof cookieName !== 'string' || !TOKEN.test(cookieName)) fail('`legacy.cookieName` must be a cookie name.');
  const cookiePath = legacy.cookiePath ?? '/';
  if (typeof cookiePath !== 'string' || !cookiePath.startsWith('/') || !ATTRIBUTE_VALUE.test(cookiePath)) fail('`legacy.cookiePath` must be a cookie path.');
  const cookieDomain = legacy.cookieDomain;
  if (cookieDomain !== undefined && (typeof cookieDomain !== 'string' || !DOMAIN.test(cookieDomain))) fail('`legacy.cookieDomain` must be a host name.');
  return Object.freeze({ cookieName, secret: Object.freeze([...secrets]), source, cookiePath, cookieDomain });
}
