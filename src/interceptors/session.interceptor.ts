import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, concat, defer, finalize, from, ignoreElements, mergeMap, tap, throwError, type Observable } from 'rxjs';
import { SESSION_AUTOLOAD_METADATA, SESSION_LOCK_METADATA, SESSION_REGENERATE_METADATA } from '../session.constants.js';
import type { ResolvedSessionLockOptions } from '../locks/session-lock.decorator.js';
import { responseStatus } from '../platform/http-platform.js';
import { SessionManager } from '../session/session.manager.js';

interface RouteSessionConfig {
  /** From `@UseSessionAutoload()`; `undefined` defers to the `autoload` option. */
  readonly autoload: boolean | undefined;
  readonly regenerate: boolean;
  /** From `@SessionLock()`. */
  readonly lock: ResolvedSessionLockOptions | undefined;
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
  private readonly routes = new WeakMap<object, Map<object, RouteSessionConfig>>();

  constructor(
    private readonly manager: SessionManager,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    if (type === 'ws') this.manager.bindSocket(context.switchToWs().getClient());
    // RPC and GraphQL contexts (and gateways, once bound) pass through untouched.
    if (type !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest();
    const res = http.getResponse();
    if (!this.manager.bind(req, res)) return next.handle();

    const route = this.routeConfig(context);
    let flowing = false;
    const saveIfFlushed = () => {
      if (this.manager.headFlushed(req)) void this.manager.commit(req, responseStatus(res));
    };
    const handled = next.handle().pipe(
      // A stream (`@Sse()`) may never complete: once the handler's result starts flowing into a
      // response whose head is already out, save what the handler changed without waiting;
      // again when the client goes away (unsubscribe).
      tap(() => {
        if (flowing) return;
        flowing = true;
        saveIfFlushed();
      }),
      finalize(saveIfFlushed),
      catchError((error: unknown) =>
        from(this.manager.commit(req, statusOf(error))).pipe(mergeMap(() => throwError(() => error))),
      ),
    );
    const commit = defer(async () => {
      if (route.regenerate) await this.manager.regenerate(req);
      await this.manager.commit(req, responseStatus(res));
    }).pipe(ignoreElements());
    // concat: the response waits for the commit, which runs even when the handler emits nothing.
    const lifecycle = concat(handled, commit);

    const lock = route.lock;
    if (lock) {
      // The lock is taken before the session is read, and released once the commit is done.
      return from(this.manager.lock(req, lock)).pipe(
        mergeMap((release) => from(this.manager.load(req)).pipe(mergeMap(() => lifecycle), finalize(() => void release()))),
      );
    }
    const autoload = route.autoload ?? this.manager.shouldAutoload(req);
    return autoload ? from(this.manager.load(req)).pipe(mergeMap(() => lifecycle)) : lifecycle;
  }

  private routeConfig(context: ExecutionContext): RouteSessionConfig {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.routes.get(handler);
    if (!byController) this.routes.set(handler, (byController = new Map()));
    let config = byController.get(controller);
    if (!config) {
      config = {
        autoload: this.reflector.getAllAndOverride<boolean | undefined>(SESSION_AUTOLOAD_METADATA, [handler, controller]),
        regenerate: this.reflector.get<boolean | undefined>(SESSION_REGENERATE_METADATA, handler) === true,
        lock: this.reflector.get<ResolvedSessionLockOptions | undefined>(SESSION_LOCK_METADATA, handler),
      };
      byController.set(controller, config);
    }
    return config;
  }
}
