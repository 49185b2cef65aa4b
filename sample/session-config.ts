import { Logger } from '@nestjs/common';
import { MemoryStore, type SessionModuleOptions, type SessionStore } from '../src/index.js';

/**
 * A fixed secret so the sample runs with zero setup. Anyone who reads this file can forge
 * session cookies signed with it: set SESSION_SECRET (at least 32 characters) for any real use.
 */
const DEV_SECRET = 'sessionkit-sample-dev-secret-do-not-use-in-production';

const logger = new Logger('SessionConfig');

type Env = Record<string, string | undefined>;

/**
 * The one place that picks the session store. In-memory for now: sessions live in this process
 * and are lost on restart. (REDIS_URL will switch this to `RedisStore` from
 * `@sessionkit/nest/redis`.)
 */
export function sessionStoreFromEnv(_env: Env = process.env): SessionStore {
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

export function sessionOptionsFromEnv(env: Env = process.env): SessionModuleOptions {
  return {
    secret: sessionSecretFromEnv(env),
    store: sessionStoreFromEnv(env),
    cookie: {
      // The sample serves plain http on localhost, and a `Secure` cookie is never sent back over
      // http by every browser/client, so it is off outside production. Behind HTTPS, keep it on.
      secure: env.NODE_ENV === 'production',
      // The library defaults, spelled out: no script access, not sent on cross-site POSTs
      // (which is what protects the login and logout forms against CSRF here).
      httpOnly: true,
      sameSite: 'lax',
    },
  };
}
