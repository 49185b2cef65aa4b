import { MAX_COOKIE_SIZE } from '../session.constants.js';
import type {
  ClientSideSessionStore,
  SyncEncodingSessionStore,
  UpdatableSessionStore,
} from '../interfaces/session-store.interface.js';

/** byte 0: format version; bytes 1-8: expiry, ms since epoch (float64 BE); then the data. */
const FORMAT = 1;
const HEADER_SIZE = 9;

export interface CookieStoreOptions {
  /** Largest cookie (name, `=` and signed value) in bytes. Default 4096, what browsers keep. */
  maxSize?: number;
}

/**
 * Keeps the whole session in the cookie. The module signs the cookie with its `secret` and
 * encrypts the bytes with its `encryptor` before they reach this store, so the store only
 * turns bytes into a cookie-safe string and back. Expiry metadata travels inside the signed
 * (and encrypted) bytes and is checked on the server. There is nothing on the server to revoke:
 * a copied cookie stays valid until it expires (see SECURITY.md).
 */
export class CookieStore implements UpdatableSessionStore, SyncEncodingSessionStore, ClientSideSessionStore {
  readonly clientSide = true as const;
  readonly maxSize: number;

  constructor(options: CookieStoreOptions = {}) {
    const { maxSize = MAX_COOKIE_SIZE } = options;
    if (!Number.isInteger(maxSize) || maxSize < 64) {
      throw new TypeError(`CookieStore: \`maxSize\` must be an integer >= 64 (got ${String(maxSize)}).`);
    }
    this.maxSize = maxSize;
  }

  async read(id: string): Promise<Uint8Array | null> {
    const bytes = Buffer.from(id, 'base64url');
    // Anything this store did not mint, or whose TTL ran out, is no session at all.
    if (bytes.length <= HEADER_SIZE || bytes[0] !== FORMAT) return null;
    const expiresAt = bytes.readDoubleBE(1);
    if (!(expiresAt > Date.now())) return null;
    return bytes.subarray(HEADER_SIZE);
  }

  encodeSync(_id: string, data: Uint8Array, _lifetime: number, ttl: number): string {
    const bytes = Buffer.allocUnsafe(HEADER_SIZE + data.length);
    bytes[0] = FORMAT;
    bytes.writeDoubleBE(Date.now() + ttl * 1000, 1);
    bytes.set(data, HEADER_SIZE);
    return bytes.toString('base64url');
  }

  async write(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string> {
    return this.encodeSync(id, data, lifetime, ttl);
  }

  async update(id: string, data: Uint8Array, lifetime: number, ttl: number): Promise<string> {
    return this.encodeSync(id, data, lifetime, ttl);
  }

  async remove(): Promise<void> {
    // The data lives in the cookie; clearing the cookie is the removal.
  }
}
