import { describe, expect, it } from '@jest/globals';
import { resolveSessionOptions } from '../../../src/options/session-options.validator.js';
import { SessionOptionsError } from '../../../src/errors/session.errors.js';
import { MemoryStore } from '../../../src/stores/memory.store.js';
import { JsonSerializer } from '../../../src/serializers/json.serializer.js';
import type { SessionModuleOptions } from '../../../src/interfaces/session-options.interface.js';

const secret = 's'.repeat(32);
const resolve = (options: Partial<SessionModuleOptions> & Record<string, unknown>) =>
  resolveSessionOptions({ secret, ...options } as SessionModuleOptions);

describe('resolveSessionOptions', () => {
  it('applies the SPEC §8 defaults', () => {
    const options = resolve({});
    expect(options).toMatchObject({
      secret: [secret],
      lifetime: 1_209_600,
      rolling: false,
      maxLifetime: undefined,
      fallbackTtl: 2_592_000,
      autoload: false,
      requestProperty: 'session',
      storeFailure: 'reject',
      cookie: { name: 'sid', path: '/', sameSite: 'lax', secure: true, httpOnly: true },
    });
    expect(options.store).toBeInstanceOf(MemoryStore);
    expect(options.serializer).toBeInstanceOf(JsonSerializer);
    expect(options.encryptor).toBeUndefined();
    expect(options.logger).not.toBe(false);
  });

  it('keeps a secret list in order (the first signs)', () => {
    expect(resolve({ secret: [secret, 't'.repeat(40)] }).secret).toEqual([secret, 't'.repeat(40)]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['missing secret', { secret: undefined }, /`secret` is required/],
    ['short secret', { secret: 'short' }, /at least 32 characters \(got 5\)/],
    ['short secret in a list', { secret: [secret, 'x'.repeat(31)] }, /secret\[1\]` must be at least 32/],
    ['empty secret list', { secret: [] }, /`secret` is required/],
    ['non-string secret', { secret: [42] }, /secret\[0\]` must be a string/],
    ['negative lifetime', { lifetime: -1 }, /`lifetime` must be a finite number of seconds >= 0/],
    ['NaN lifetime', { lifetime: Number.NaN }, /`lifetime`/],
    ['string lifetime', { lifetime: '60' }, /`lifetime`/],
    ['zero maxLifetime', { maxLifetime: 0 }, /`maxLifetime` must be a finite number of seconds > 0/],
    ['negative fallbackTtl', { fallbackTtl: -5 }, /`fallbackTtl`/],
    ['non-boolean rolling', { rolling: 'yes' }, /`rolling` must be a boolean/],
    ['bad autoload', { autoload: 'yes' }, /`autoload` must be a boolean or an array/],
    ['relative autoload prefix', { autoload: ['app'] }, /autoload\[0\]` must be a path prefix/],
    ['unknown option', { lifetme: 5 }, /unknown option `lifetme`/],
    ['unknown cookie option', { cookie: { maxAge: 5 } }, /unknown option `cookie.maxAge`/],
    ['empty cookie name', { cookie: { name: '' } }, /`cookie.name` must be a non-empty string/],
    ['cookie name with space', { cookie: { name: 'my sid' } }, /not a valid cookie name/],
    ['cookie name with ;', { cookie: { name: 'a;b' } }, /not a valid cookie name/],
    ['non-ASCII cookie name', { cookie: { name: 'séssion' } }, /not a valid cookie name/],
    ['cookie name with =', { cookie: { name: 'a=b' } }, /not a valid cookie name/],
    ['path with ;', { cookie: { path: '/a;b' } }, /`cookie.path`/],
    ['path with space', { cookie: { path: '/a b' } }, /`cookie.path`/],
    ['path with CRLF', { cookie: { path: '/a\r\nSet-Cookie: x=1' } }, /`cookie.path`/],
    ['relative path', { cookie: { path: 'app' } }, /`cookie.path` must start with "\/"/],
    ['domain with ;', { cookie: { domain: 'example.com; Secure' } }, /`cookie.domain`/],
    ['domain with LF', { cookie: { domain: 'example.com\n' } }, /`cookie.domain`/],
    ['domain with space', { cookie: { domain: 'exa mple.com' } }, /`cookie.domain`/],
    ['unknown sameSite', { cookie: { sameSite: 'relaxed' } }, /`cookie.sameSite` must be one of 'lax', 'strict', 'none'/],
    ['capitalised sameSite', { cookie: { sameSite: 'Lax' } }, /`cookie.sameSite`/],
    ['sameSite none without secure', { cookie: { sameSite: 'none', secure: false } }, /requires `cookie.secure: true`/],
    ['__Secure- without secure', { cookie: { name: '__Secure-sid', secure: false } }, /`__Secure-` cookie name \(in any letter case\) requires `cookie.secure: true`/],
    ['__Host- without secure', { cookie: { name: '__Host-sid', secure: false } }, /`__Host-` cookie name requires `cookie.secure: true`/],
    ['__Host- with a path', { cookie: { name: '__Host-sid', path: '/app' } }, /`__Host-` cookie name requires `cookie.path: "\/"`/],
    ['__Host- with a domain', { cookie: { name: '__Host-sid', domain: 'example.com' } }, /`__Host-` cookie name forbids `cookie.domain`/],
    // Browsers match the prefixes case-insensitively (RFC 6265bis §5.7).
    ['__host- (lower case) with a domain', { cookie: { name: '__host-sid', domain: 'example.com' } }, /`__Host-` cookie name forbids `cookie.domain`/],
    ['__HOST- without secure', { cookie: { name: '__HOST-sid', secure: false } }, /`__Host-` cookie name requires `cookie.secure: true`/],
    ['__host- with a path', { cookie: { name: '__hOsT-sid', path: '/app' } }, /`__Host-` cookie name requires `cookie.path: "\/"`/],
    ['__secure- without secure', { cookie: { name: '__secure-sid', secure: false } }, /`__Secure-` cookie name \(in any letter case\) requires/],
    ['__SECURE- without secure', { cookie: { name: '__SECURE-sid', secure: false } }, /`__Secure-` cookie name \(in any letter case\) requires/],
    ['partitioned without secure', { cookie: { partitioned: true, secure: false } }, /`cookie.partitioned` requires/],
    ['unknown priority', { cookie: { priority: 'urgent' } }, /`cookie.priority`/],
    ['unknown storeFailure', { storeFailure: 'ignore' }, /`storeFailure` must be one of 'reject', 'anonymous'/],
    ['store without methods', { store: { read() {} } }, /`store` must be a SessionStore instance/],
    ['bad serializer', { serializer: { serialize() {} } }, /`serializer` must have serialize\(\) and deserialize\(\)/],
    ['bad encryptor', { encryptor: {} }, /`encryptor` must have encrypt\(\) and decrypt\(\)/],
    ['bad skip header', { skip: 'x skip' }, /`skip` must be a header name or a function/],
    ['empty requestProperty', { requestProperty: '' }, /`requestProperty`/],
    ['bad logger', { logger: {} }, /`logger` must be a Nest LoggerService/],
  ])('rejects %s with a clear SessionOptionsError', (_label, options, message) => {
    let thrown: unknown;
    try {
      resolve(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SessionOptionsError);
    expect((thrown as Error).message).toMatch(/^SessionModule: /);
    expect((thrown as Error).message).toMatch(message);
  });

  it('never echoes a secret in its error', () => {
    expect(() => resolve({ secret: 'hunter2-secret' })).toThrow(SessionOptionsError);
    try { resolve({ secret: 'hunter2-secret' }); } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('accepts valid prefixed names, domains and a lower-cased skip header', () => {
    expect(resolve({ cookie: { name: '__Host-sid' } }).cookie.name).toBe('__Host-sid');
    expect(resolve({ cookie: { domain: '.example.com' } }).cookie.domain).toBe('.example.com');
    expect(resolve({ skip: 'X-Skip-Session' }).skip).toBe('x-skip-session');
    expect(resolve({ lifetime: 0, logger: false }).logger).toBe(false);
  });
});
