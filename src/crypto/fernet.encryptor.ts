import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidKeyError } from '../errors/session.errors.js';
import type { Encryptor } from '../interfaces/encryptor.interface.js';
import { DecryptionError, toKeyList } from './aes-gcm.encryptor.js';

/**
 * A Fernet key as Python's `Fernet.generate_key()` returns it: the 44-character URL-safe base64
 * (padded) text of 32 bytes, as a string or as the ASCII bytes of that text.
 */
export type FernetKey = string | Uint8Array;

export interface FernetEncryptorOptions {
  /** Reject tokens older than this many seconds (Python's `decrypt(token, ttl=...)`). */
  ttl?: number;
}

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16; // version | timestamp | IV
const HMAC_BYTES = 32;
const BLOCK_BYTES = 16;
// Python's cryptography.fernet._MAX_CLOCK_SKEW: a token "from the future" beyond this is refused.
const MAX_CLOCK_SKEW_SECONDS = 60;
const KEY_TEXT = /^[A-Za-z0-9_-]{43}=$/;
const TOKEN_TEXT = /^[A-Za-z0-9_-]*={0,2}$/;

interface FernetKeyPair {
  signing: Buffer;
  encryption: Buffer;
}

/**
 * Fernet (https://github.com/fernet/spec), interoperable with Python's `cryptography.fernet`:
 * tokens made here decrypt there and vice versa. With several keys it behaves as `MultiFernet`
 * (the first encrypts, all are tried to decrypt).
 *
 * Token: base64url-with-padding of
 *   0x80 | 8-byte big-endian timestamp (s) | 16-byte IV | AES-128-CBC/PKCS7 ciphertext | HMAC-SHA256
 * where the HMAC covers everything before it. `encrypt` returns the token's ASCII bytes.
 */
export class FernetEncryptor implements Encryptor {
  private readonly keys: readonly FernetKeyPair[];
  private readonly ttl: number | undefined;

  constructor(keys: FernetKey | readonly FernetKey[], options: FernetEncryptorOptions = {}) {
    this.keys = toKeyList(keys, 'FernetEncryptor').map(parseKey);
    const { ttl } = options;
    if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
      throw new RangeError(`FernetEncryptor: ttl must be a positive number of seconds, got ${ttl}.`);
    }
    this.ttl = ttl;
  }

  encrypt(data: Uint8Array): Uint8Array {
    return this.encryptAt(data, currentSeconds(), randomBytes(16));
  }

  decrypt(data: Uint8Array): Uint8Array {
    return this.decryptAt(data, currentSeconds());
  }

  decryptWithKeyIndex(data: Uint8Array): { data: Uint8Array; keyIndex: number } {
    return this.open(data, currentSeconds(), this.ttl);
  }

  /**
   * For interop tests: `encrypt` with a fixed timestamp and IV, so the output can be compared
   * with the spec's vectors. Never reuse an IV in production; call `encrypt`.
   */
  encryptAt(data: Uint8Array, timestampSeconds: number, iv: Uint8Array): Uint8Array {
    if (iv.byteLength !== 16) throw new RangeError('Fernet IV must be 16 bytes.');
    const { signing, encryption } = this.keys[0]!;
    const cipher = createCipheriv('aes-128-cbc', encryption, iv);
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(Math.floor(timestampSeconds)), 1);
    header.set(iv, 9);
    const signed = Buffer.concat([header, cipher.update(data), cipher.final()]);
    const mac = createHmac('sha256', signing).update(signed).digest();
    return Buffer.from(toBase64UrlPadded(Buffer.concat([signed, mac])), 'latin1');
  }

  /**
   * For interop tests: `decrypt` as if the clock read `nowSeconds`. `ttl` defaults to the
   * constructor's option; undefined means no age limit (the future-skew limit always applies).
   */
  decryptAt(
    token: Uint8Array | string,
    nowSeconds: number,
    ttl: number | undefined = this.ttl,
  ): Uint8Array {
    return this.open(token, nowSeconds, ttl).data;
  }

  private open(token: Uint8Array | string, nowSeconds: number, ttl: number | undefined): { data: Uint8Array; keyIndex: number } {
    const raw = decodeToken(token);
    const signed = raw.subarray(0, raw.length - HMAC_BYTES);
    const mac = raw.subarray(raw.length - HMAC_BYTES);
    // HMAC first, in constant time: nothing in the token (timestamp included) is trusted and no
    // ciphertext reaches the cipher (no padding oracle) until a key has authenticated it.
    const keyIndex = this.keys.findIndex((k) =>
      timingSafeEqual(createHmac('sha256', k.signing).update(signed).digest(), mac),
    );
    const key = this.keys[keyIndex];
    if (!key) throw new DecryptionError('Fernet token signature does not match any configured key.');

    const timestamp = Number(raw.readBigUInt64BE(1));
    // Same comparisons as Python's Fernet._decrypt_data, so the two agree at the boundaries.
    if (ttl !== undefined && timestamp + ttl < nowSeconds) {
      throw new DecryptionError(`Fernet token has expired (older than ${ttl} s).`);
    }
    if (nowSeconds + MAX_CLOCK_SKEW_SECONDS < timestamp) {
      throw new DecryptionError('Fernet token timestamp is too far in the future.');
    }

    try {
      const decipher = createDecipheriv('aes-128-cbc', key.encryption, raw.subarray(9, HEADER_BYTES));
      const body = raw.subarray(HEADER_BYTES, raw.length - HMAC_BYTES);
      return { data: Buffer.concat([decipher.update(body), decipher.final()]), keyIndex };
    } catch (cause) {
      throw new DecryptionError('Fernet token padding is invalid.', { cause });
    }
  }
}

function currentSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function parseKey(key: FernetKey, index: number): FernetKeyPair {
  const text =
    typeof key === 'string' ? key : key instanceof Uint8Array ? Buffer.from(key).toString('latin1') : null;
  // The message never echoes the key: it is a secret and ends up in logs.
  if (text === null || !KEY_TEXT.test(text)) {
    const got = text === null ? 'not a string or bytes' : `${text.length} characters or not URL-safe base64`;
    throw new InvalidKeyError(
      `FernetEncryptor: key #${index} must be the 44-character URL-safe base64 text of 32 bytes ` +
        `(as Python's Fernet.generate_key() returns); got ${got}.`,
    );
  }
  const bytes = Buffer.from(text, 'base64url');
  return { signing: bytes.subarray(0, 16), encryption: bytes.subarray(16, 32) };
}

/**
 * Strict base64url decoding plus structural checks. Node's decoder silently skips bad characters
 * and ignores non-zero trailing bits, so a token is accepted only if it is exactly what
 * `encrypt` would emit for its bytes: no two spellings of one token.
 */
function decodeToken(token: Uint8Array | string): Buffer {
  const text =
    typeof token === 'string'
      ? token
      : Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString('latin1');
  if (text.length % 4 !== 0 || !TOKEN_TEXT.test(text)) {
    throw new DecryptionError('Fernet token is not valid URL-safe base64.');
  }
  const raw = Buffer.from(text, 'base64url');
  if (toBase64UrlPadded(raw) !== text) {
    throw new DecryptionError('Fernet token is not canonical base64.');
  }
  if (raw.length === 0 || raw[0] !== VERSION) {
    throw new DecryptionError('Fernet token has an unknown version.');
  }
  const bodyBytes = raw.length - HEADER_BYTES - HMAC_BYTES;
  if (bodyBytes < BLOCK_BYTES || bodyBytes % BLOCK_BYTES !== 0) {
    throw new DecryptionError('Fernet token has an invalid length.');
  }
  return raw;
}

function toBase64UrlPadded(bytes: Buffer): string {
  const text = bytes.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}
