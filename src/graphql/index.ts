/**
 * `@sessionkit/nest/graphql`: the one line that wires a GraphQL driver's per-request commit.
 * Nothing here imports @nestjs/graphql, graphql, Apollo or Mercurius: they are the app's.
 */
export { sessionApolloPlugin, type SessionApolloPlugin, type SessionApolloListener, type ApolloSessionRequestContext } from './apollo-session.plugin.js';
export { sessionMercuriusRouteOptions, type SessionMercuriusRouteOptions } from './mercurius-session.hooks.js';
export { SESSION_STORE_UNAVAILABLE, SESSION_NOT_SAVED } from './graphql-request.js';
export { SessionGraphqlSetupError, SessionUnavailableError } from '../errors/session.errors.js';
