import { describe, expect, it } from '@jest/globals';
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { AesGcmEncryptor, DecryptionError } from '../../../src/crypto/aes-gcm.encryptor.js';
import { InvalidKeyError } from '../../../src/errors/session.errors.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);

function flipBit(data: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(data);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

describe('AesGcmEncryptor', () => {
  describe('keys', () => {
    it.each([0, 16, 24, 31, 33, 64])('rejects a %i-byte key', (size) => {
      expect(() => new AesGcmEncryptor(randomBytes(size))).toThrow(InvalidKeyError);
      expect(() => new AesGcmEncryptor(randomBytes(size))).toThrow(`is ${size} bytes`);
    });

    it('rejects a bad key anywhere in the rotation list, naming its index', () => {
      expect(() => new AesGcmEncryptor([keyA, randomBytes(16)])).toThrow(/key #1 is 16 bytes/);
    });

    it('rejects an empty key list', () => {
      expect(() => new AesGcmEncryptor([])).toThrow(InvalidKeyError);
      expect(() => new AesGcmEncryptor([])).toThrow(/empty/);
    });

    it('rejects a key that is not bytes (e.g. a hex string)', () => {
      expect(() => new AesGcmEncryptor('a'.repeat(64) as unknown as Uint8Array)).toThrow(InvalidKeyError);
    });

    it('accepts a plain Uint8Array and copies it (later mutation has no effect)', () => {
      const key = new Uint8Array(keyA);
      const enc = new AesGcmEncryptor(key);
      const token = enc.encrypt(Buffer.from('x'));
      key.fill(0);
      expect(Buffer.from(enc.decrypt(token)).toString()).toBe('x');
    });
  });

  describe('format', () => {
    it('is nonce(12) | ciphertext | tag(16), with a fresh nonce per call', () => {
      const enc = new AesGcmEncryptor(keyA);
      const data = Buffer.from('hello');
      const t1 = Buffer.from(enc.encrypt(data));
      const t2 = Buffer.from(enc.encrypt(data));
      expect(t1.length).toBe(12 + data.length + 16);
      expect(t1.subarray(0, 12).equals(t2.subarray(0, 12))).toBe(false);
    });

    it('round-trips an empty payload', () => {
      const enc = new AesGcmEncryptor(keyA);
      expect(enc.decrypt(enc.encrypt(new Uint8Array(0))).byteLength).toBe(0);
    });

    it('decrypts a Uint8Array view with a non-zero byteOffset', () => {
      const enc = new AesGcmEncryptor(keyA);
      const token = enc.encrypt(Buffer.from('offset'));
      const backing = new Uint8Array(token.byteLength + 7);
      backing.set(token, 7);
      expect(Buffer.from(enc.decrypt(backing.subarray(7))).toString()).toBe('offset');
    });
  });

  describe('rotation', () => {
    it('decrypts data written with an older key when it is later in the list', () => {
      const token = new AesGcmEncryptor(keyA).encrypt(Buffer.from('rotate me'));
      const rotated = new AesGcmEncryptor([keyB, keyA]);
      expect(Buffer.from(rotated.decrypt(token)).toString()).toBe('rotate me');
      expect(() => new AesGcmEncryptor(keyB).decrypt(token)).toThrow(DecryptionError);
    });

    it('encrypts with the first key only', () => {
      const token = new AesGcmEncryptor([keyB, keyA]).encrypt(Buffer.from('new'));
      expect(Buffer.from(new AesGcmEncryptor(keyB).decrypt(token)).toString()).toBe('new');
      expect(() => new AesGcmEncryptor(keyA).decrypt(token)).toThrow(DecryptionError);
    });
  });

  describe('tampering', () => {
    it('rejects a genuine ciphertext carrying a truncated 4-byte tag', () => {
      // Node itself accepts this tag length unless authTagLength is enforced.
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyA, nonce, { authTagLength: 4 });
      const body = Buffer.concat([cipher.update(Buffer.from('forged?')), cipher.final()]);
      const token = Buffer.concat([nonce, body, cipher.getAuthTag()]);
      expect(cipher.getAuthTag().length).toBe(4);
      expect(() => new AesGcmEncryptor(keyA).decrypt(token)).toThrow(DecryptionError);
    });

    it('rejects a real token cut down to a 4-byte tag', () => {
      const enc = new AesGcmEncryptor(keyA);
      const token = Buffer.from(enc.encrypt(Buffer.from('some session data')));
      expect(() => enc.decrypt(token.subarray(0, token.length - 12))).toThrow(DecryptionError);
    });

    it.each([0, 1, 12, 27])('rejects a %i-byte input (shorter than nonce + tag)', (size) => {
      expect(() => new AesGcmEncryptor(keyA).decrypt(randomBytes(size))).toThrow(/at least 28/);
    });

    it('rejects every single-bit flip of a short token (exhaustive)', () => {
      const enc = new AesGcmEncryptor([keyA, keyB]);
      const token = enc.encrypt(Buffer.from('abcd'));
      for (let bit = 0; bit < token.byteLength * 8; bit++) {
        expect(() => enc.decrypt(flipBit(token, bit))).toThrow(DecryptionError);
      }
    });

    it('rejects a single-bit flip anywhere in a token for any payload (property)', () => {
      const enc = new AesGcmEncryptor(keyA);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(), (data, n) => {
          const token = enc.encrypt(data);
          expect(() => enc.decrypt(flipBit(token, n % (token.byteLength * 8)))).toThrow(DecryptionError);
        }),
      );
    });
  });

  it('round-trips any bytes (property)', () => {
    const enc = new AesGcmEncryptor([keyA, keyB]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        expect(Buffer.from(enc.decrypt(enc.encrypt(data))).equals(Buffer.from(data))).toBe(true);
      }),
    );
  });
});
