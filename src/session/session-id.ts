import { randomBytes } from 'node:crypto';

/** 24 random bytes: 192 bits, well above the 128 the spec demands; 32 URL-safe characters. */
const ID_BYTES = 24;
/** IDs drawn from one call to the CSPRNG: one call per 128 sessions instead of one each. */
const POOL_SIZE = ID_BYTES * 128;

let pool = Buffer.alloc(0);
let offset = 0;

export function generateSessionId(): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  // Each pooled byte is used once; wiped so no ID lingers in the pool after it is handed out.
  pool.fill(0, offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
