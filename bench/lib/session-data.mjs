// What every variant's /new route stores: a small, realistic logged-in session (~150 bytes of
// JSON). The bare app builds the same object and throws it away, so every variant's handler does
// the same work and only the session handling differs.
import { randomBytes } from 'node:crypto';

let sequence = 0;

export function newSessionData() {
  sequence = (sequence + 1) % 1_000_000;
  return {
    userId: `u_${String(100000 + sequence).padStart(6, '0')}`,
    name: 'Ada Lovelace',
    roles: ['user', 'beta'],
    locale: 'en-GB',
    csrf: randomBytes(18).toString('base64url'),
    n: 0,
  };
}

/** One secret for every variant (>= 32 characters, as the module requires). */
export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
/** AES-256-GCM key of the CookieStore variant (fixed: the bench must be reproducible). */
export const AES_KEY = Buffer.alloc(32, 7);
/** express-session lifetime, matched to the module's default 14-day fixed lifetime. */
export const LIFETIME_MS = 1_209_600_000;
