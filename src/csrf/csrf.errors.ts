import { ForbiddenException } from '@nestjs/common';

/** Why a request failed the CSRF check: no token at all, or one that does not verify. */
export type CsrfFailure = 'missing' | 'invalid';

/**
 * An unsafe request (POST, PUT, PATCH, DELETE) on a CSRF-protected route came without a valid
 * token. Answers 403; `reason` tells a missing token from a wrong one.
 */
export class CsrfTokenError extends ForbiddenException {
  constructor(
    readonly reason: CsrfFailure,
    where: { readonly header: string; readonly field: string },
  ) {
    super(
      reason === 'missing'
        ? `CSRF token missing: send the token from sessionService.csrfToken(req) in the "${where.header}" header ` +
            `or the "${where.field}" form field.`
        : 'CSRF token invalid: it does not belong to this session (it was issued to another session, before a ' +
            'login or logout, or the session expired). Reload the page to get a new one.',
    );
    this.name = 'CsrfTokenError';
  }
}
