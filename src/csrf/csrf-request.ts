import type { AnyRequest } from '../platform/http-platform.js';
import { createCsrfSecret, maskCsrfToken } from './csrf-token.js';
import type { RequestSession } from '../session/request-session.js';

/** Where a request carries its token (`ResolvedSessionOptions.csrf`). */
export interface CsrfTokenPlaces {
  /** Lower-case header name. */
  readonly header: string;
  readonly field: string;
}

/**
 * The token a request submitted: the header when present, else the body field (a urlencoded
 * form or a JSON body, parsed by the platform before guards run). `undefined` when neither is
 * there. Not validated here: whatever the client sent (an array for a repeated field, say)
 * simply fails verification.
 */
export function submittedCsrfToken(req: AnyRequest, places: CsrfTokenPlaces): unknown {
  const header: unknown = req.headers?.[places.header];
  if (header !== undefined && header !== '') return header;
  const body: unknown = req.body;
  // An own property only: a body parsed into a plain object must not answer from its prototype.
  if (typeof body === 'object' && body !== null && !ArrayBuffer.isView(body) && Object.hasOwn(body, places.field)) {
    const value = (body as Record<string, unknown>)[places.field];
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** A fresh masked token for a loaded session, creating its secret on first use (which saves it). */
export function csrfTokenFor(session: RequestSession): string {
  return maskCsrfToken((session.csrfSecret ??= createCsrfSecret()));
}
