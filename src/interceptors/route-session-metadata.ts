import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { ResolvedSessionLockOptions } from '../locks/session-lock.decorator.js';
import { SESSION_AUTOLOAD_METADATA, SESSION_LOCK_METADATA, SESSION_REGENERATE_METADATA } from '../session.constants.js';

/** What a route's (or resolver's) decorators ask of the session. */
export interface RouteSessionMetadata {
  /** From `@UseSessionAutoload()`; `undefined` defers to the `autoload` option. */
  readonly autoload: boolean | undefined;
  readonly regenerate: boolean;
  /** From `@SessionLock()`. */
  readonly lock: ResolvedSessionLockOptions | undefined;
}

export function readRouteSessionMetadata(reflector: Reflector, handler: object, owner: object): RouteSessionMetadata {
  return {
    autoload: reflector.getAllAndOverride<boolean | undefined>(SESSION_AUTOLOAD_METADATA, [handler as never, owner as never]),
    regenerate: reflector.get<boolean | undefined>(SESSION_REGENERATE_METADATA, handler as never) === true,
    lock: reflector.get<ResolvedSessionLockOptions | undefined>(SESSION_LOCK_METADATA, handler as never),
  };
}

/**
 * Per-route values computed once: keyed by the handler and the class that runs it (one method
 * can serve several controllers through inheritance, with different class-level metadata).
 */
export class RouteCache<T> {
  private readonly entries = new WeakMap<object, Map<object, T>>();

  get(context: ExecutionContext, compute: (handler: object, owner: object) => T): T {
    const handler = context.getHandler();
    const owner = context.getClass();
    let byOwner = this.entries.get(handler);
    if (!byOwner) this.entries.set(handler, (byOwner = new Map()));
    let value = byOwner.get(owner);
    if (value === undefined) byOwner.set(owner, (value = compute(handler, owner)));
    return value;
  }
}
