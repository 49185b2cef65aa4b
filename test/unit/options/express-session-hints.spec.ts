/**
 * Someone moving from express-session (or nestjs-session, which nests express-session's options
 * under `session`) passes its option names; each is refused at startup with an error naming
 * what to use instead, not just "unknown option".
 */
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { SessionModule, SessionOptionsError, type SessionModuleOptions } from '../../../src/index.js';
import { resolveSessionOptions } from '../../../src/options/session-options.validator.js';

const secret = 's'.repeat(32);

function errorOf(options: Record<string, unknown>): SessionOptionsError {
  try {
    resolveSessionOptions({ secret, ...options } as SessionModuleOptions);
  } catch (error) {
    if (error instanceof SessionOptionsError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('express-session option names get a hint naming their equivalent', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['resave', { resave: false }, /not needed: a session is saved only when it changed/],
    ['saveUninitialized', { saveUninitialized: false }, /not needed: an empty new session is never saved/],
    ['name', { name: 'connect.sid' }, /use `cookie\.name`/],
    ['genid', { genid: () => 'id' }, /not supported: IDs are 192 random bits/],
    ['proxy', { proxy: true }, /not needed: set Express's `trust proxy`/],
    ['unset', { unset: 'destroy' }, /not needed: `delete session\.key`, or `destroy\(\)`/],
    ['session', { session: { secret, resave: false } }, /pass the express-session options themselves \(nestjs-session nests them under `session`\)/],
  ])('`%s`', (name, options, hint) => {
    const error = errorOf(options);
    expect(error.message).toMatch(new RegExp(`^SessionModule: unknown option \`${name}\` \\(an express-session option: `));
    expect(error.message).toMatch(hint);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['maxAge', { maxAge: 86_400_000 }, /use `lifetime` \(in seconds, not milliseconds\); per session: `session\.cookie\.maxAge` or `sessionService\.setLifetime\(\)`/],
    ['expires', { expires: new Date() }, /use `lifetime` \(in seconds\)/],
  ])('`cookie.%s`', (name, cookie, hint) => {
    const error = errorOf({ cookie });
    expect(error.message).toMatch(new RegExp(`^SessionModule: unknown option \`cookie\\.${name}\` \\(an express-session option: `));
    expect(error.message).toMatch(hint);
  });

  it('the options both libraries share are accepted as they are (secret, store, rolling, cookie attributes)', () => {
    expect(() =>
      resolveSessionOptions({ secret, rolling: true, cookie: { path: '/', httpOnly: true, secure: true, sameSite: 'lax', domain: 'example.com' } }),
    ).not.toThrow();
  });

  it('a name that is neither ours nor express-session’s gets no hint', () => {
    const error = errorOf({ lifetme: 5 });
    expect(error.message).toBe('SessionModule: unknown option `lifetme`.');
    expect(errorOf({ cookie: { maxage: 5 } }).message).toBe('SessionModule: unknown option `cookie.maxage`.');
  });

  it('the first unknown option is the one reported, hint included', () => {
    expect(errorOf({ resave: false, saveUninitialized: false }).message).toMatch(/unknown option `resave`/);
  });

  it('the hint reaches the app at startup (SessionModule.forRoot with express-session options)', async () => {
    const options = { secret, resave: false, saveUninitialized: false } as unknown as SessionModuleOptions;
    await expect(Test.createTestingModule({ imports: [SessionModule.forRoot(options)] }).compile()).rejects.toThrow(
      /unknown option `resave` \(an express-session option: not needed/,
    );
  });
});
