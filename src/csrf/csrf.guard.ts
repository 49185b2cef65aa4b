import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SESSION_LOCK_METADATA } from '../session.constants.js';
import { SessionManager } from '../session/session.manager.js';
import { CSRF_SKIP_METADATA } from './csrf.constants.js';
import { CsrfTokenError } from './csrf.errors.js';
import { submittedCsrfToken } from './csrf-request.js';
import { csrfSecretOf } from './csrf-secret.reader.js';
import { CSRF_UNSAFE_METHODS, verifyCsrfToken } from './csrf-token.js';

/**
 * CSRF protection (OWASP's synchronizer token pattern): an unsafe request (POST, PUT, PATCH,
 * DELETE) must carry a token from `sessionService.csrfToken(req)` in the `x-csrf-token` header or
 * the `_csrf` body field (both configurable with the module's `csrf` option); otherwise 403
 * (`CsrfTokenError`). Safe methods always pass.
 *
 * Globally: `{ provide: APP_GUARD, useClass: CsrfGuard }` (opt a route out with `@SkipCsrf()`);
 * per route: `@UseGuards(CsrfGuard)` or `@CsrfProtected()`. Guards run before interceptors, so
 * this one loads the session itself; a request without a session is refused without creating one.
 * Contexts other than HTTP (RPC, WebSocket, GraphQL resolvers) pass through.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(
    private readonly manager: SessionManager,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.getArgByIndex(0);
    if (!CSRF_UNSAFE_METHODS.has(req.method)) return true;
    const handler = context.getHandler();
    if (this.reflector.getAllAndOverride<boolean | undefined>(CSRF_SKIP_METADATA, [handler, context.getClass()]) === true) {
      return true;
    }

    const places = this.manager.runtime.options.csrf;
    const token = submittedCsrfToken(req, places);
    // No token: refused before the store is asked anything.
    if (token === undefined) throw new CsrfTokenError('missing', places);
    const locked = this.reflector.get(SESSION_LOCK_METADATA, handler) !== undefined;
    const secret = await csrfSecretOf(this.manager, req, locked);
    // Constant time for every well-formed token; nothing is written for a refused request (the
    // interceptor, which commits, never runs after a guard says no).
    if (!verifyCsrfToken(secret, token)) throw new CsrfTokenError('invalid', places);
    return true;
  }
}
