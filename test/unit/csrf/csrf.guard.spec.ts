import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, ForbiddenException, Module, Post, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { CSRF_SKIP_METADATA } from '../../../src/csrf/csrf.constants.js';
import { CsrfGuard, CsrfProtected, CsrfTokenError, SessionModule, SkipCsrf } from '../../../src/index.js';
import { SessionManager } from '../../../src/session/session.manager.js';
import { SECRET, startApp } from '../../support/session-app.js';

@Module({ imports: [SessionModule.forRoot({ secret: SECRET, logger: false })] })
class AppModule {}

/** A context of another transport: anything beyond getType() would be the guard touching it. */
function contextOf(type: string): ExecutionContext {
  const untouchable = () => {
    throw new Error(`the guard touched a ${type} context`);
  };
  return {
    getType: () => type,
    switchToHttp: untouchable,
    switchToRpc: untouchable,
    switchToWs: untouchable,
    getHandler: untouchable,
    getClass: untouchable,
    getArgs: untouchable,
    getArgByIndex: untouchable,
  } as unknown as ExecutionContext;
}

describe('CsrfGuard', () => {
  let app: INestApplication;
  let guard: CsrfGuard;
  beforeAll(async () => {
    app = await startApp(AppModule);
    guard = new CsrfGuard(app.get(SessionManager, { strict: false }), new Reflector());
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(['rpc', 'ws', 'graphql'])('lets a %s context through untouched', async (type) => {
    await expect(guard.canActivate(contextOf(type))).resolves.toBe(true);
  });

  it('lets a safe method through before looking at anything else', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) {
      const context = {
        getType: () => 'http',
        getArgByIndex: () => ({ method, headers: {} }),
        getHandler: () => {
          throw new Error('looked up metadata for a safe method');
        },
      } as unknown as ExecutionContext;
      await expect(guard.canActivate(context)).resolves.toBe(true);
    }
  });
});

describe('CsrfTokenError', () => {
  it('is a 403 ForbiddenException naming where the token goes', () => {
    const missing = new CsrfTokenError('missing', { header: 'x-csrf-token', field: '_csrf' });
    expect(missing).toBeInstanceOf(ForbiddenException);
    expect(missing.getStatus()).toBe(403);
    expect(missing.name).toBe('CsrfTokenError');
    expect(missing.reason).toBe('missing');
    expect(missing.message).toMatch(/CSRF token missing.*csrfToken\(req\).*"x-csrf-token" header.*"_csrf" form field/);
    const invalid = new CsrfTokenError('invalid', { header: 'x-csrf-token', field: '_csrf' });
    expect(invalid.reason).toBe('invalid');
    expect(invalid.message).toMatch(/CSRF token invalid/);
    expect(invalid.getResponse()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });
});

describe('CSRF decorators', () => {
  @Controller()
  @SkipCsrf()
  class Skipped {
    @Post('a') a() {}
    @Post('b') @SkipCsrf(false) b() {}
    @Post('c') @CsrfProtected() c() {}
  }
  const reflector = new Reflector();
  const skipped = (method: 'a' | 'b' | 'c') => reflector.getAllAndOverride<boolean>(CSRF_SKIP_METADATA, [Skipped.prototype[method], Skipped]);

  it('@SkipCsrf() marks a class; a method can override it with @SkipCsrf(false) or @CsrfProtected()', () => {
    expect(skipped('a')).toBe(true);
    expect(skipped('b')).toBe(false);
    expect(skipped('c')).toBe(false);
  });

  it('@CsrfProtected() adds CsrfGuard to the route', () => {
    expect(Reflect.getMetadata(GUARDS_METADATA, Skipped.prototype.c)).toEqual([CsrfGuard]);
    expect(Reflect.getMetadata(GUARDS_METADATA, Skipped.prototype.a)).toBeUndefined();
  });
});
