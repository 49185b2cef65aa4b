/* eslint-disable @typescript-eslint/no-explicit-any */
import { graphqlFailure, graphqlRequestOf, startGraphqlRequest } from './graphql-request.js';

/**
 * Fastify route hooks for Mercurius's GraphQL routes (`additionalRouteOptions`). Typed loosely so
 * that this file needs no Fastify import; Fastify's own hook types are assignable to them.
 */
export interface SessionMercuriusRouteOptions {
  /** Marks the request: its session is committed by `onSend`, once, after every resolver. */
  preHandler(request: any, reply: any, done: (error?: Error) => void): void;
  /** Commits the session before the response is written; a failed save becomes the response. */
  onSend(request: any, reply: any, payload: any): Promise<any>;
}

/**
 * Route hooks that commit the session of a Mercurius GraphQL request once, after all its
 * resolvers (every root field, every operation of a batch) and before Fastify writes the
 * response: the cookie goes out with the answer, and a failed save turns the answer into an error
 * (HTTP 503, `errors[0].extensions.code` `SESSION_STORE_UNAVAILABLE`, no `data`).
 *
 * ```ts
 * GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, additionalRouteOptions: sessionMercuriusRouteOptions() })
 * ```
 *
 * Route hooks rather than Mercurius hooks: Mercurius's `onResolution` runs once per operation of
 * a batch, and a route hook only costs the GraphQL routes, never the app's other routes.
 */
export function sessionMercuriusRouteOptions(): SessionMercuriusRouteOptions {
  return {
    preHandler(request, _reply, done) {
      startGraphqlRequest(request);
      done();
    },
    async onSend(request, reply, payload) {
      const graphql = graphqlRequestOf(request);
      if (!graphql) return payload;
      graphql.saw(reply.statusCode);
      const error = await graphql.commit(request, reply);
      if (!error) return payload;
      const { status, result } = graphqlFailure(error);
      reply.code(status);
      reply.header('content-type', 'application/json; charset=utf-8');
      // A batch answers an array: every operation shared the session, none of them is done.
      return JSON.stringify(Array.isArray(request.body) ? request.body.map(() => result) : result);
    },
  };
}
