import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { CSRF_SKIP_METADATA } from './csrf.constants.js';
import { CsrfGuard } from './csrf.guard.js';

/**
 * Exempts a controller or a route from `CsrfGuard` (registered globally with `APP_GUARD`): for
 * webhooks and APIs authenticated by something other than the session cookie. On a route,
 * `@SkipCsrf(false)` overrides a controller-level `@SkipCsrf()`.
 */
export const SkipCsrf = (skip = true): ClassDecorator & MethodDecorator => SetMetadata(CSRF_SKIP_METADATA, skip);

/**
 * Checks the CSRF token on this controller's or route's unsafe requests: `@UseGuards(CsrfGuard)`,
 * plus an explicit "not skipped" that wins over a controller-level `@SkipCsrf()` when used on a
 * route. Harmless next to a global `CsrfGuard` (the check is repeated, the session loaded once).
 */
export const CsrfProtected = (): ClassDecorator & MethodDecorator =>
  applyDecorators(SetMetadata(CSRF_SKIP_METADATA, false), UseGuards(CsrfGuard));
