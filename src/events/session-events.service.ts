import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import { SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { SessionEvent, SessionEventListener, SessionEventType } from './session-event.interface.js';

/**
 * Session lifecycle events (created, regenerated, destroyed, expired, revoked), for an audit
 * log or metrics. Subscribe here, or put `@OnSessionEvent()` on a provider method. Listeners run
 * after the fact and never affect the request: their errors are logged, their promises not
 * awaited.
 */
@Injectable()
export class SessionEvents {
  private readonly listeners = new Set<{ types: ReadonlySet<SessionEventType> | undefined; listener: SessionEventListener }>();
  private readonly logger: LoggerService | undefined;

  constructor(@Inject(SESSION_OPTIONS) options: ResolvedSessionOptions) {
    this.logger = options.logger === false ? undefined : options.logger;
  }

  /** Calls `listener` for the given event types (all when none). Returns an unsubscribe function. */
  subscribe(listener: SessionEventListener, ...types: SessionEventType[]): () => void {
    const entry = { types: types.length ? new Set(types) : undefined, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Whether anybody listens (so the module can skip building events nobody reads). */
  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  emit(event: SessionEvent): void {
    for (const { types, listener } of this.listeners) {
      if (types && !types.has(event.type)) continue;
      try {
        const result = listener(event);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((error: unknown) => this.report(event, error));
        }
      } catch (error) {
        this.report(event, error);
      }
    }
  }

  private report(event: SessionEvent, error: unknown): void {
    this.logger?.error(`Session event listener for "${event.type}" failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
