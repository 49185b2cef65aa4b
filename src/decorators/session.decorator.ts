import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { SessionData } from '../interfaces/session-data.interface.js';
import { SessionManager } from '../session/session.manager.js';
import { readSocketSession } from '../websocket/socket-session.reader.js';
import { loadGraphqlSession } from '../graphql/graphql-session.reader.js';
import { SessionUnavailableError } from '../errors/session.errors.js';

const NOT_IMPORTED = '@Session() needs SessionModule.forRoot() (or forRootAsync()) imported in the root module.';

/**
 * Handler parameter: the session data (`@Session()`) or one value of it (`@Session('cart')`).
 * Its presence is what makes the route load the session; other routes never touch the store.
 * In a WebSocket gateway it gives a read-only view of the handshake cookie's session; in a GraphQL
 * resolver, the request's session (or, over a WebSocket, the connection's, read-only). RPC and
 * unknown contexts have no session: it rejects with `SessionUnavailableError`.
 */
export const Session = createParamDecorator((key: string | undefined, ctx: ExecutionContext): Promise<unknown> => {
  let loading: Promise<SessionData>;
  const type: string = ctx.getType(); // 'graphql' is @nestjs/graphql's addition to Nest's types
  if (type === 'ws') {
    const client = ctx.switchToWs().getClient();
    const manager = SessionManager.ofSocket(client);
    if (!manager) return Promise.reject(new Error(NOT_IMPORTED));
    loading = readSocketSession(manager.runtime, client);
  } else if (type === 'graphql') {
    loading = loadGraphqlSession(ctx, NOT_IMPORTED);
  } else if (type !== 'http') {
    return Promise.reject(new SessionUnavailableError(type));
  } else {
    const req = ctx.getArgByIndex(0);
    const manager = SessionManager.of(req);
    if (!manager) return Promise.reject(new Error(NOT_IMPORTED));
    loading = manager.load(req);
  }
  // The load's own promise when the whole session is asked for: no extra async step per request.
  return key === undefined ? loading : loading.then((data) => data[key]);
});
