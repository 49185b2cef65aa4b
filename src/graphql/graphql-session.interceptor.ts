import type { CallHandler, ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { catchError, concat, defer, from, ignoreElements, switchMap, throwError, type Observable } from 'rxjs';
import { SessionGraphqlSetupError, SessionUnavailableError } from '../errors/session.errors.js';
import type { ResolvedSessionLockOptions } from '../locks/session-lock.decorator.js';
import { lockSession } from '../locks/session-locker.js';
import type { AnyRequest } from '../platform/http-platform.js';
import { RouteCache, readRouteSessionMetadata, type RouteSessionMetadata } from '../interceptors/route-session-metadata.js';
import type { SessionManager } from '../session/session.manager.js';
import { bindHandshake } from '../websocket/socket-session.js';
import { graphqlTransport, requestOf } from './graphql-context.js';
import { errorStatus, graphqlRequestOf, type GraphqlRequest } from './graphql-request.js';


const NOT_WIRED = 'the commit hook is not installed, so a change could not be saved before the response is written';
const NO_RESPONSE =
  'its GraphQL context has no response to carry the cookie (with Apollo on Fastify, return `{ req, res: reply }` from the context function)';
const OVER_SOCKET =
  'an operation over a WebSocket cannot send a cookie, so a change could never be saved. Read the ' +
  "connection's session with @Session() or sessionService.loadForSocket(context)";

/**
 * The session interceptor's part for GraphQL resolvers. Nest runs it once per resolver, so it
 * only prepares: it binds the HTTP request to its response, loads (autoload, `@SessionLock()`),
 * regenerates after a successful `@RegenerateSession()` resolver and notes errors; the commit is
 * the driver hook's (Apollo plugin, Mercurius route hooks), once per HTTP request after every
 * resolver. Operations over a WebSocket (subscriptions) get the connection's session, read-only.
 */
export class GraphqlSessionInterceptor {
  private readonly resolvers = new RouteCache<RouteSessionMetadata>();

  constructor(
    private readonly manager: SessionManager,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const gqlContext = context.getArgByIndex(2);
    const transport = graphqlTransport(gqlContext);
    // A context the module cannot read: @Session() says so, nothing else is touched.
    if (!transport) return next.handle();
    // Lets @Session() (field resolvers included) find the module from the context.
    this.manager.bindSocket(gqlContext);
    if (transport.kind === 'socket') {
      bindHandshake(gqlContext, transport.handshake);
      // sessionService calls on this context reach the socket's objects: refuse them, never lose a change.
      const socketError = () => new SessionUnavailableError('graphql-ws', OVER_SOCKET);
      this.manager.refuse(gqlContext, socketError);
      const inner = requestOf(gqlContext);
      if (inner !== gqlContext && typeof inner === 'object' && inner !== null) {
        bindHandshake(inner, transport.handshake);
        this.manager.refuse(inner, socketError);
      }
      return next.handle();
    }
    const { req, res } = transport;
    const request = graphqlRequestOf(req);
    if (!request || res === undefined) {
      const reason = request ? NO_RESPONSE : NOT_WIRED;
      const used = this.manager.refuse(req, () => new SessionGraphqlSetupError(reason));
      return used ? throwError(() => used) : next.handle();
    }
    this.manager.bind(req, res, false);
    const config = this.config(context);
    const ready = config.lock
      ? this.lock(request, req, res, config.lock).then(() => this.manager.load(req))
      : (config.autoload ?? this.manager.shouldAutoload(req))
        ? this.manager.load(req)
        : undefined;
    let handled = ready ? from(ready).pipe(switchMap(() => next.handle())) : next.handle();
    if (config.regenerate) {
      // After the resolver succeeds; the commit that moves the record comes with the response.
      handled = concat(handled, defer(() => this.manager.sessionFor(req).regenerate(req)).pipe(ignoreElements()));
    }
    return handled.pipe(
      catchError((error: unknown) => {
        request.saw(errorStatus(error));
        return throwError(() => error);
      }),
    );
  }

  /** The request's lock, taken once however many locked resolvers it runs; released after the commit. */
  private lock(request: GraphqlRequest, req: AnyRequest, res: { raw?: unknown }, options: ResolvedSessionLockOptions): Promise<unknown> {
    if (!request.lock) {
      request.lock = lockSession(this.manager.runtime, req, options);
      // Should the commit never run (the driver failed the request itself), the response's end releases it.
      const raw = (res.raw ?? res) as { once?(event: string, listener: () => void): unknown };
      raw.once?.('close', () => void request.releaseLock());
    }
    return request.lock;
  }

  private config(context: ExecutionContext): RouteSessionMetadata {
    return this.resolvers.get(context, (handler, resolver) => readRouteSessionMetadata(this.reflector, handler, resolver));
  }

}
