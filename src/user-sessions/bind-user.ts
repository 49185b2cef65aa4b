import type { AnyRequest } from '../platform/http-platform.js';
import type { RequestSession } from '../session/request-session.js';

const MAX_USER_AGENT = 256;

/** Binds a request's session to a user: listed by `listForUser`, revoked by `revokeAllForUser`. */
export async function bindUser(session: RequestSession, req: AnyRequest, userId: string): Promise<void> {
  if (typeof userId !== 'string' || userId.length === 0) throw new TypeError('bindUser(): `userId` must be a non-empty string.');
  await session.load(req);
  session.userId = userId;
  const agent = req.headers?.['user-agent'];
  session.userAgent = typeof agent === 'string' ? agent.slice(0, MAX_USER_AGENT) : undefined;
}
