import { withCookieVary } from '../platform/http-platform.js';
import { graphqlTransport } from './graphql-context.js';
import { graphqlFailure, startGraphqlRequest } from './graphql-request.js';

/*
 * The parts of Apollo Server's plugin API this plugin uses, written out so that this file needs
 * no Apollo import (the package must load without it). Apollo's own types are assignable to them.
 */
interface ApolloHeaders {
  get(name: string): string | undefined;
  set(name: string, value: string): unknown;
  delete(name: string): unknown;
}
interface ApolloResponse {
  http: { status?: number; headers: ApolloHeaders };
  body?: { kind: string; singleResult?: unknown };
}
export interface ApolloSessionRequestContext {
  readonly contextValue: unknown;
  readonly response: ApolloResponse;
}
export interface SessionApolloListener {
  willSendResponse(requestContext: ApolloSessionRequestContext): Promise<void>;
}
/** An Apollo Server plugin (`ApolloServerPlugin`): see `sessionApolloPlugin()`. */
export interface SessionApolloPlugin {
  requestDidStart(requestContext: ApolloSessionRequestContext): Promise<SessionApolloListener | undefined>;
}

/**
 * The Apollo Server plugin that commits the session of a GraphQL request once, after all its
 * resolvers ran and before Apollo writes the response (`willSendResponse`): the cookie goes out
 * with the answer, and a failed save turns the answer into an error (HTTP 503, `errors[0]
 * .extensions.code` `SESSION_STORE_UNAVAILABLE`, no `data`).
 *
 * ```ts
 * GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, plugins: [sessionApolloPlugin()] })
 * ```
 *
 * A batch (`allowBatchedHttpRequests`) runs each operation as its own Apollo request; they all
 * start before any finishes, so the last one to finish commits for all, and each rewrites its
 * own answer if the save failed.
 */
export function sessionApolloPlugin(): SessionApolloPlugin {
  return {
    // Not awaiting anything before counting: Apollo starts every operation of a batch
    // synchronously, so the count is complete before the first one finishes.
    async requestDidStart({ contextValue }) {
      const transport = graphqlTransport(contextValue);
      // Operations over graphql-ws (read-only there) and executeOperation() without a request.
      if (transport?.kind !== 'http') return undefined;
      const { req, res } = transport;
      const request = startGraphqlRequest(req);
      request.started++;
      return {
        async willSendResponse({ response }) {
          request.saw(response.http.status ?? 200);
          const outcome = ++request.finished === request.started ? request.commit(req, res) : request.committed();
          const error = await outcome;
          if (error) fail(response, error);
          else keepSessionHeaders(res, response.http.headers);
        },
      };
    },
  };
}

/** The answer becomes the failure: its status, and errors without `data` (nothing is reported done). */
function fail(response: ApolloResponse, error: Error): void {
  const { status, result } = graphqlFailure(error);
  response.http.status = status;
  response.body = { kind: 'single', singleResult: result };
}

/**
 * Apollo's Express integration copies its own headers onto the response with `setHeader`, which
 * replaces what is there: a `Set-Cookie` in Apollo's head would drop the session cookie, an
 * Apollo `Vary` would drop `Cookie`. Carry ours over.
 */
function keepSessionHeaders(res: unknown, headers: ApolloHeaders): void {
  const raw = ((res as { raw?: unknown })?.raw ?? res) as
    | { getHeader?(name: string): unknown; appendHeader?(name: string, value: string): unknown }
    | undefined;
  if (typeof raw?.getHeader !== 'function' || typeof raw.appendHeader !== 'function') return;
  const cookie = headers.get('set-cookie');
  if (cookie !== undefined) {
    raw.appendHeader('set-cookie', cookie);
    headers.delete('set-cookie');
  }
  const vary = headers.get('vary');
  if (vary !== undefined && /(^|,)\s*cookie\s*(,|$)/i.test(String(raw.getHeader('vary') ?? ''))) headers.set('vary', withCookieVary(vary));
}
