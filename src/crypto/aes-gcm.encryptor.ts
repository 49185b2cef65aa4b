import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { InvalidKeyError } from '../errors/session.errors.js';
import type { Encryptor } from '../interfaces/encryptor.interface.js';

/**
 * Data could not be authenticated or decrypted with any configured key. The module treats it as
 * an empty session; the message says why, never anything about the key.
 */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

/** Key material as accepted by the encryptors: one key, or a rotation list (first one encrypts). */
export type EncryptionKeys = Uint8Array | readonly Uint8Array[];

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM. Token: 12-byte random nonce | ciphertext | 16-byte tag.
 *
 * A random 96-bit nonce per write is safe for ~2^32 encryptions per key (NIST SP 800-38D);
 * rotate keys well before that.
 */
export class AesGcmEncryptor implements Encryptor {
  // KeyObjects are built once so each call skips re-validating and copying raw key bytes; the
  // copy also means a caller mutating its Buffer later cannot change our keys.
  private readonly keys: readonly KeyObject[];

  constructor(keys: EncryptionKeys) {
    const list = toKeyList(keys, 'AesGcmEncryptor');
    this.keys = list.map((key, i) => {
      if (!(key instanceof Uint8Array)) {
        throw new InvalidKeyError(`AesGcmEncryptor: key #${i} is not a Buffer or Uint8Array.`);
      }
      if (key.byteLength !== KEY_BYTES) {
        throw new InvalidKeyError(
          `AesGcmEncryptor: key #${i} is ${key.byteLength} bytes; AES-256-GCM needs exactly ${KEY_BYTES} ` +
            '(for example crypto.randomBytes(32)).',
        );
      }
      return createSecretKey(Buffer.from(key));
    });
  }

  encrypt(data: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, nonce, { authTagLength: TAG_BYTES });
    const body = cipher.update(data);
    const final = cipher.final();
    return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
  }

  decrypt(data: Uint8Array): Uint8Array {
    return this.decryptWithKeyIndex(data).data;
  }

  decryptWithKeyIndex(data: Uint8Array): { data: Uint8Array; keyIndex: number } {
    // Without this length check and `authTagLength`, Node would accept a truncated tag (down to
    // 4 bytes), which makes forging a token 2^96 times easier.
    if (data.byteLength < NONCE_BYTES + TAG_BYTES) {
      throw new DecryptionError(
        `AES-GCM token is ${data.byteLength} bytes; at least ${NONCE_BYTES + TAG_BYTES} expected.`,
      );
    }
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const nonce = buf.subarray(0, NONCE_BYTES);
    const body = buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    for (let keyIndex = 0; keyIndex < this.keys.length; keyIndex++) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.keys[keyIndex], nonce, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tag);
        const plain = decipher.update(body);
        // final() is what checks the tag; nothing above is trusted until it returns.
        return { data: Buffer.concat([plain, decipher.final()]), keyIndex };
      } catch {
        // Wrong key (rotation) or tampered data: try the next key.
      }
    }
    throw new DecryptionError('AES-GCM token failed authentication with every configured key.');
  }
}

/** @internal Normalizes one key or a key list, rejecting an empty list up front. */
export function toKeyList<T>(keys: T | readonly T[], owner: string): readonly T[] {
  const list = Array.isArray(keys) ? (keys as readonly T[]) : [keys as T];
  if (list.length === 0) {
    throw new InvalidKeyError(`${owner}: the key list is empty; give at least one key.`);
  }
  return list;
}
