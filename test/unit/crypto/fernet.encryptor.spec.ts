import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DecryptionError } from '../../../src/crypto/aes-gcm.encryptor.js';
import { FernetEncryptor } from '../../../src/crypto/fernet.encryptor.js';
import { InvalidKeyError } from '../../../src/errors/session.errors.js';

// The Fernet spec's acceptance vectors, kept in the repo (see test/fixtures/fernet/README.md).
const VECTORS = fileURLToPath(new URL('../../fixtures/fernet/', import.meta.url));

interface Vector {
  desc?: string;
  token: string;
  now: string;
  secret: string;
  src?: string;
  iv?: number[];
  ttl_sec?: number;
}

function load(name: string): Vector[] {
  return JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8')) as Vector[];
}
const seconds = (iso: string): number => Date.parse(iso) / 1000;
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

const generate = load('generate.json');
const verify = load('verify.json');
const invalid = load('invalid.json');

const keyA = randomKey();
const keyB = randomKey();
function randomKey(): string {
  return randomBytes(32).toString('base64url') + '=';
}

function flipBit(data: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(data);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}
const fromB64 = (token: Uint8Array): Buffer => Buffer.from(Buffer.from(token).toString('latin1'), 'base64url');
const toB64 = (raw: Buffer): Buffer => {
  const t = raw.toString('base64url');
  return Buffer.from(t + '='.repeat((4 - (t.length % 4)) % 4), 'latin1');
};

describe('FernetEncryptor', () => {
  describe('spec vectors', () => {
    it('has vectors to run', () => {
      expect(generate.length).toBeGreaterThan(0);
      expect(verify.length).toBeGreaterThan(0);
      expect(invalid.length).toBeGreaterThanOrEqual(8);
    });

    it.each(generate)('generate: $src', (v) => {
      const enc = new FernetEncryptor(v.secret);
      const token = enc.encryptAt(Buffer.from(v.src!), seconds(v.now), Buffer.from(v.iv!));
      expect(Buffer.from(token).toString('latin1')).toBe(v.token);
      expect(text(enc.decryptAt(token, seconds(v.now)))).toBe(v.src);
    });

    it.each(verify)('verify: $src', (v) => {
      const enc = new FernetEncryptor(v.secret);
      expect(text(enc.decryptAt(Buffer.from(v.token), seconds(v.now), v.ttl_sec))).toBe(v.src);
      expect(text(enc.decryptAt(v.token, seconds(v.now), v.ttl_sec))).toBe(v.src);
    });

    it.each(invalid)('invalid: $desc', (v) => {
      const enc = new FernetEncryptor(v.secret, { ttl: v.ttl_sec });
      expect(() => enc.decryptAt(Buffer.from(v.token), seconds(v.now))).toThrow(DecryptionError);
      expect(() => enc.decryptAt(v.token, seconds(v.now), v.ttl_sec)).toThrow(DecryptionError);
    });
  });

  describe('keys', () => {
    it.each([
      ['a raw 32-byte Buffer', randomBytes(32)],
      ['unpadded base64url', randomBytes(32).toString('base64url')],
      ['standard base64 (+/)', '+/' + randomBytes(32).toString('base64').slice(2)],
      ['16 bytes', randomBytes(16).toString('base64url') + '=='],
      ['48 bytes', randomBytes(48).toString('base64url')],
      ['an empty string', ''],
      ['a number', 42],
    ])('rejects %s', (_label, key) => {
      expect(() => new FernetEncryptor(key as string)).toThrow(InvalidKeyError);
    });

    it('rejects an empty key list', () => {
      expect(() => new FernetEncryptor([])).toThrow(InvalidKeyError);
    });

    it('never echoes the key in the error message', () => {
      const bad = 'x'.repeat(43) + '!';
      expect(() => new FernetEncryptor(bad)).toThrow(/44-character URL-safe base64/);
      try {
        new FernetEncryptor(bad);
      } catch (e) {
        expect((e as Error).message).not.toContain(bad);
      }
    });

    it('accepts the key as the ASCII bytes of its text (Buffer or Uint8Array)', () => {
      const token = new FernetEncryptor(keyA).encrypt(Buffer.from('k'));
      expect(text(new FernetEncryptor(Buffer.from(keyA)).decrypt(token))).toBe('k');
      expect(text(new FernetEncryptor(new TextEncoder().encode(keyA)).decrypt(token))).toBe('k');
    });

    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('rejects ttl %p', (ttl) => {
      expect(() => new FernetEncryptor(keyA, { ttl })).toThrow(RangeError);
    });
  });

  describe('format', () => {
    it('emits the ASCII bytes of a padded base64url token: 0x80 | timestamp | IV | ciphertext | HMAC', () => {
      const before = Math.floor(Date.now() / 1000);
      const token = new FernetEncryptor(keyA).encrypt(Buffer.from('hello'));
      const ascii = Buffer.from(token).toString('latin1');
      expect(ascii).toMatch(/^gAAAAA[A-Za-z0-9_-]+={0,2}$/);
      expect(ascii.length % 4).toBe(0);
      const raw = fromB64(token);
      expect(raw[0]).toBe(0x80);
      expect(Number(raw.readBigUInt64BE(1))).toBeGreaterThanOrEqual(before);
      expect(Number(raw.readBigUInt64BE(1))).toBeLessThanOrEqual(before + 1);
      expect(raw.length).toBe(1 + 8 + 16 + 16 + 32);
    });

    it('rejects a non-canonical spelling of a valid token (non-zero trailing bits)', () => {
      const enc = new FernetEncryptor(keyA);
      const ascii = Buffer.from(enc.encrypt(Buffer.from('hello'))).toString('latin1');
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // 73 raw bytes -> "==" padding: the last data character carries 4 unused bits.
      const i = ascii.length - 3;
      const tweaked = ascii.slice(0, i) + alphabet[alphabet.indexOf(ascii[i]!) | 1] + ascii.slice(i + 1);
      expect(tweaked).not.toBe(ascii);
      expect(Buffer.from(tweaked, 'base64url').equals(Buffer.from(ascii, 'base64url'))).toBe(true);
      expect(() => enc.decrypt(Buffer.from(tweaked))).toThrow(/canonical/);
    });
  });

  describe('rotation', () => {
    it('decrypts tokens from an older key later in the list, and encrypts with the first', () => {
      const old = new FernetEncryptor(keyA).encrypt(Buffer.from('old'));
      const rotated = new FernetEncryptor([keyB, keyA]);
      expect(text(rotated.decrypt(old))).toBe('old');
      expect(() => new FernetEncryptor(keyB).decrypt(old)).toThrow(DecryptionError);
      const fresh = rotated.encrypt(Buffer.from('new'));
      expect(text(new FernetEncryptor(keyB).decrypt(fresh))).toBe('new');
      expect(() => new FernetEncryptor(keyA).decrypt(fresh)).toThrow(/signature/);
    });
  });

  describe('time', () => {
    const t0 = 1_700_000_000;
    const iv = Buffer.alloc(16, 7);

    it('enforces the ttl from the constructor, inclusive of the boundary (as Python)', () => {
      const enc = new FernetEncryptor(keyA, { ttl: 60 });
      const token = enc.encryptAt(Buffer.from('t'), t0, iv);
      expect(text(enc.decryptAt(token, t0 + 60))).toBe('t');
      expect(() => enc.decryptAt(token, t0 + 61)).toThrow(/expired/);
      // No ttl: any age is accepted.
      expect(text(new FernetEncryptor(keyA).decryptAt(token, t0 + 10 ** 6))).toBe('t');
    });

    it('rejects tokens more than 60 s in the future, with or without a ttl', () => {
      const enc = new FernetEncryptor(keyA);
      const token = enc.encryptAt(Buffer.from('t'), t0 + 60, iv);
      expect(text(enc.decryptAt(token, t0))).toBe('t');
      const farther = enc.encryptAt(Buffer.from('t'), t0 + 61, iv);
      expect(() => enc.decryptAt(farther, t0)).toThrow(/future/);
      expect(() => enc.decryptAt(farther, t0, 3600)).toThrow(/future/);
    });

    it('decrypt() uses the current clock', () => {
      const enc = new FernetEncryptor(keyA, { ttl: 5 });
      expect(text(enc.decrypt(enc.encrypt(Buffer.from('now'))))).toBe('now');
      const stale = enc.encryptAt(Buffer.from('stale'), Math.floor(Date.now() / 1000) - 60, iv);
      expect(() => enc.decrypt(stale)).toThrow(/expired/);
    });
  });

  describe('tampering', () => {
    const enc = new FernetEncryptor([keyA, keyB]);
    const token = enc.encrypt(Buffer.from('hi'));

    it('rejects every single-bit flip of the token text (exhaustive)', () => {
      for (let bit = 0; bit < token.byteLength * 8; bit++) {
        expect(() => enc.decrypt(flipBit(token, bit))).toThrow(DecryptionError);
      }
    });

    it('rejects every single-bit flip of the decoded token bytes (exhaustive)', () => {
      const raw = fromB64(token);
      for (let bit = 0; bit < raw.length * 8; bit++) {
        expect(() => enc.decrypt(toB64(flipBit(raw, bit)))).toThrow(DecryptionError);
      }
    });

    it('rejects a single-bit flip of a token for any payload (property)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(), fc.boolean(), (data, n, decoded) => {
          const t = enc.encrypt(data);
          const tampered = decoded
            ? toB64(flipBit(fromB64(t), n % (fromB64(t).length * 8)))
            : flipBit(t, n % (t.byteLength * 8));
          expect(() => enc.decrypt(tampered)).toThrow(DecryptionError);
        }),
      );
    });

    it.each([
      ['empty', ''],
      ['only padding', '===='],
      ['wrong version', toB64(Buffer.concat([Buffer.from([0x81]), fromB64(token).subarray(1)])).toString()],
      ['truncated', Buffer.from(token).toString('latin1').slice(0, 40)],
    ])('rejects a %s token', (_label, bad) => {
      expect(() => enc.decrypt(Buffer.from(bad, 'latin1'))).toThrow(DecryptionError);
    });
  });

  it('round-trips any bytes (property)', () => {
    const enc = new FernetEncryptor([keyA, keyB], { ttl: 60 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        expect(Buffer.from(enc.decrypt(enc.encrypt(data))).equals(Buffer.from(data))).toBe(true);
      }),
    );
  });

  // Runs only where Python's `cryptography` is installed; the vectors above are the portable check.
  const python = spawnSync('python3', ['-c', 'import cryptography.fernet'], { stdio: 'ignore' });
  (python.status === 0 ? it : it.skip)("interoperates with Python's cryptography.fernet both ways", () => {
    const script = [
      'import sys',
      'from cryptography.fernet import Fernet, MultiFernet',
      'f = MultiFernet([Fernet(sys.argv[1]), Fernet(sys.argv[2])])',
      'print(f.decrypt(sys.argv[3].encode(), ttl=60).decode())',
      'print(Fernet(sys.argv[2]).encrypt("from python ✓".encode()).decode())',
    ].join('\n');
    const enc = new FernetEncryptor([keyA, keyB]);
    const ours = Buffer.from(enc.encrypt(Buffer.from('from node ✓'))).toString('latin1');
    const run = spawnSync('python3', ['-c', script, keyB, keyA, ours], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const [decrypted, theirs] = run.stdout.split('\n');
    expect(decrypted).toBe('from node ✓');
    expect(text(enc.decrypt(Buffer.from(theirs!)))).toBe('from python ✓');
  });
});
