import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, type Subscription } from 'rxjs';
import {
  NEST_RESPONSE_PASSTHROUGH_METADATA,
  NEST_ROUTE_ARGS_METADATA,
  NEST_SSE_METADATA,
} from '../session.constants.js';
import { responseStatus } from '../platform/http-platform.js';
import { lockSession } from '../locks/session-locker.js';
import { SessionManager } from '../session/session.manager.js';
import { RouteCache, readRouteSessionMetadata, type RouteSessionMetadata } from './route-session-metadata.js';
import { SessionUnavailableError } from '../errors/session.errors.js';
import { GraphqlSessionInterceptor } from '../graphql/graphql-session.interceptor.js';

interface RouteSessionConfig extends RouteSessionMetadata {
  /** `@Res()`/`@Next()` without passthrough, or `@Sse()`: the head can go out before the commit. */
  readonly respondsItself: boolean;
}

// Nest's own param types (RouteParamtypes.RESPONSE and NEXT), as keys of route-argument metadata.
const RESPONSE_ARG = '1:';
const NEXT_ARG = '2:';

// reflect-metadata, which every Nest app loads (looked up at call time: it may load after us).
const getMetadata = (key: string, target: object, property?: string): unknown =>
  (Reflect as unknown as { getMetadata(key: string, target: object, property?: string): unknown }).getMetadata(key, target, property);

/** The property a controller method is stored under (Nest keys route metadata by it, not by the function's name). */
function methodKey(controller: { prototype?: object }, handler: object): string | undefined {
  for (let proto = controller.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (Object.getOwnPropertyDescriptor(proto, key)?.value === handler) return key;
    }
  }
  return undefined;
}

/**
 * Whether Nest leaves the response to the handler (its own rule, `isResponseHandled`), or streams
 * it. When the method cannot be found on its controller, assume it may: the hook only costs time.
 */
function respondsItself(controller: { prototype?: object }, handler: object): boolean {
  if (getMetadata(NEST_SSE_METADATA, handler)) return true;
  const key = methodKey(controller, handler);
  if (key === undefined) return true;
  const args = (getMetadata(NEST_ROUTE_ARGS_METADATA, controller, key) ?? {}) as Record<string, unknown>;
  const takesResponse = Object.keys(args).some((arg) => arg.startsWith(RESPONSE_ARG) || arg.startsWith(NEXT_ARG));
  return takesResponse && !getMetadata(NEST_RESPONSE_PASSTHROUGH_METADATA, controller, key);
}

function statusOf(error: unknown): number {
  return error instanceof HttpException ? error.getStatus() : 500;
}

/**
 * The one global interceptor: load (when the route autoloads), handler, commit. Routes that
 * never touch the session pay for a metadata lookup (cached) and nothing else.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  private readonly routes = new RouteCache<RouteSessionConfig>();
  private graphql: GraphqlSessionInterceptor | undefined;

  constructor(
    private readonly manager: SessionManager,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    if (type !== 'http') return this.outsideHttp(type, context, next);
    // The HTTP arguments are (req, res): read directly, without switchToHttp()'s per-call object.
    const req = context.getArgByIndex(0);
    const res = context.getArgByIndex(1);
    const route = this.routeConfig(context);
    if (!this.manager.bind(req, res, route.respondsItself)) return next.handle();

    const autoload = route.lock === undefined && (route.autoload ?? this.manager.shouldAutoload(req));
    // Written by hand rather than composed from operators: it runs on every HTTP request.
    return new Observable<unknown>((subscriber) => {
      let handler: Subscription | undefined;
      let release: (() => Promise<void>) | undefined;
      let flowing = false;
      // A stream (`@Sse()`) may never complete: once the handler's result flows into a response
      // whose head is already out, save what it changed without waiting; again at teardown.
      const saveIfFlushed = () => {
        if (this.manager.headFlushed(req)) void this.manager.commit(req, responseStatus(res));
      };
      const settle = (work: Promise<void>, then: () => void) => {
        work.then(then, (error: unknown) => subscriber.error(error));
      };
      const run = () => {
        if (subscriber.closed) return;
        handler = next.handle().subscribe({
          next: (value) => {
            if (!flowing) {
              flowing = true;
              saveIfFlushed();
            }
            subscriber.next(value);
          },
          // Thrown errors: 4xx changes are saved, 5xx ones are not; then the error goes on.
          error: (error: unknown) => settle(Promise.resolve(this.manager.commit(req, statusOf(error))), () => subscriber.error(error)),
          complete: () => {
            if (route.regenerate) return settle(this.regenerateAndCommit(req, res), () => subscriber.complete());
            // The response waits for the commit, when there is one to wait for (a request that
            // never used the session, or only read it, has none).
            let work: Promise<void> | undefined;
            try {
              work = this.manager.commit(req, responseStatus(res));
            } catch (error) {
              return subscriber.error(error);
            }
            if (work === undefined) subscriber.complete();
            else settle(work, () => subscriber.complete());
          },
        });
      };
      const ready = route.lock
        ? // The lock is taken before the session is read, and released once the commit is done.
          lockSession(this.manager.runtime, req, route.lock).then((unlock) => {
            release = unlock;
            if (subscriber.closed) void unlock();
            return this.manager.load(req);
          })
        : autoload
          ? this.manager.load(req)
          : undefined;
      if (ready) ready.then(run, (error: unknown) => subscriber.error(error));
      else run();
      return () => {
        handler?.unsubscribe();
        saveIfFlushed();
        void release?.();
      };
    });
  }

  /**
   * Gateways read the handshake's session; GraphQL resolvers have their own part; RPC handlers and
   * contexts the module does not know can never save a session, so their arguments refuse it
   * (`SessionUnavailableError`) rather than hand out one whose changes would be lost.
   */
  private outsideHttp(type: string, context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (type === 'ws') {
      this.manager.bindSocket(context.switchToWs().getClient());
      return next.handle();
    }
    if (type === 'graphql') return (this.graphql ??= new GraphqlSessionInterceptor(this.manager, this.reflector)).intercept(context, next);
    const refusal = () => new SessionUnavailableError(type);
    for (const arg of context.getArgs()) {
      if (typeof arg === 'object' && arg !== null) this.manager.refuse(arg, refusal);
    }
    return next.handle();
  }

  private async regenerateAndCommit(req: unknown, res: unknown): Promise<void> {
    await this.manager.sessionFor(req).regenerate(req);
    await this.manager.commit(req, responseStatus(res));
  }

  private routeConfig(context: ExecutionContext): RouteSessionConfig {
    return this.routes.get(context, (handler, controller) => ({
      ...readRouteSessionMetadata(this.reflector, handler, controller),
      respondsItself: respondsItself(controller as { prototype?: object }, handler),
    }));
  }

}
