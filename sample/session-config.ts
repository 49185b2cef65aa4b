import { Logger } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { MemoryStore, type SessionModuleOptions, type SessionStore } from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { SampleMapStore } from './stores/sample-map.store.js';
import type { SampleRedisConnection } from './stores/sample-stores.module.js';

/**
 * A fixed secret so the sample runs with zero setup. Anyone who reads this file can forge
 * session cookies signed with it: set SESSION_SECRET (at least 32 characters) for any real use.
 */
const DEV_SECRET = 'sessionkit-sample-dev-secret-do-not-use-in-production';

const logger = new Logger('SessionConfig');

type Env = Record<string, string | undefined>;

/**
 * The one place that picks the session store:
 * - REDIS_URL set: `RedisStore` on that server (sessions survive restarts, shared by instances);
 * - SESSION_STORE_KIND=custom: `SampleMapStore`, a custom store class built by Nest DI;
 * - otherwise the in-memory store (lost on restart).
 */
export function sessionStoreFromEnv(env: Env = process.env, redis?: SampleRedisConnection): SessionStore | Type<SessionStore> {
  if (redis?.client) return new RedisStore({ client: redis.client, prefix: 'sample:sess:' });
  if (env.SESSION_STORE_KIND === 'custom') return SampleMapStore;
  return new MemoryStore();
}

/** SESSION_SECRET, or the dev secret with a warning. Production refuses to run without one. */
export function sessionSecretFromEnv(env: Env = process.env): string {
  const secret = env.SESSION_SECRET;
  if (secret) return secret;
  if (env.NODE_ENV === 'production') {
    throw new Error('SESSION_SECRET is not set: refusing to sign production session cookies with the sample dev secret.');
  }
  logger.warn('SESSION_SECRET is not set: using the built-in development secret. Never deploy it.');
  return DEV_SECRET;
}

export function sessionOptionsFromEnv(env: Env = process.env, redis?: SampleRedisConnection): SessionModuleOptions {
  return {
    secret: sessionSecretFromEnv(env),
    store: sessionStoreFromEnv(env, redis),
    cookie: {
      // The sample serves plain http on localhost, and a `Secure` cookie is never sent back over
      // http by every browser/client, so it is off outside production. Behind HTTPS, keep it on.
      secure: env.NODE_ENV === 'production',
      // The library defaults, spelled out: no script access, not sent on cross-site POSTs. That
      // is one layer against CSRF; the forms' tokens (CsrfGuard, app.module.ts) are the other.
      httpOnly: true,
      sameSite: 'lax',
    },
  };
}
