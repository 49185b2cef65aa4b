import type { ExecutionContext } from '@nestjs/common';
import { SessionUnavailableError } from '../errors/session.errors.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import { SessionManager } from '../session/session.manager.js';
import { readSocketSession } from '../websocket/socket-session.reader.js';
import { graphqlTransport } from './graphql-context.js';

const NO_REQUEST =
  'its GraphQL context carries neither an HTTP request (`req`, or Mercurius\'s `reply`) nor a WebSocket ' +
  'handshake; keep `req` in the object your context function returns';

/**
 * `@Session()` in a resolver: over HTTP, the request's session (lazy, committed once per request
 * by the driver hook); over a WebSocket (subscriptions), the connection's session, read afresh
 * and read-only, as in gateways.
 */
export function loadGraphqlSession(ctx: ExecutionContext, notImported: string): Promise<SessionData> {
  const gqlContext = ctx.getArgByIndex(2);
  const transport = graphqlTransport(gqlContext);
  if (!transport) return Promise.reject(new SessionUnavailableError('graphql', NO_REQUEST));
  // Marked by the interceptor (root resolvers); a field resolver's request was bound by its parent's.
  const manager =
    SessionManager.ofSocket(gqlContext) ?? (transport.kind === 'http' ? SessionManager.of(transport.req) : undefined);
  if (!manager) return Promise.reject(new Error(notImported));
  if (transport.kind === 'socket') return readSocketSession(manager.runtime, { request: transport.handshake });
  try {
    return manager.load(transport.req);
  } catch (error) {
    // A request whose commit is not wired refuses its session (SessionGraphqlSetupError).
    return Promise.reject(error);
  }
}
