import { randomBytes } from 'node:crypto';

/** 24 random bytes: 192 bits, well above the 128 the spec demands; 32 URL-safe characters. */
const ID_BYTES = 24;

export function generateSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}
