import { Logger, type LoggerService } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { SessionEventType } from './session-event.interface.js';
import type { SessionEvents } from './session-events.service.js';

const NEST_LOGGER_LOG = Logger.prototype.log;

/** Short, irreversible reference to a session for logs and events: never the ID itself. */
function ref(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 10);
}

/** Reports a lifecycle event: one log line (not for `expired`) and one event to listeners. */
export class SessionEventLog {
  constructor(
    private readonly events: SessionEvents,
    private readonly logger: LoggerService | undefined,
  ) {}

  report(type: SessionEventType, id: string | undefined, userId: string | undefined): void {
    const log = type !== 'expired' && this.logger !== undefined && this.logsEvents();
    if (!log && !this.events.hasListeners) return;
    const reference = id === undefined ? 'none' : ref(id);
    if (log) this.logger!.log(`Session ${type} (ref ${reference})`);
    if (this.events.hasListeners) this.events.emit({ type, ref: reference, userId, at: new Date() });
  }

  /**
   * Nest's own `Logger` filters by level: skip the work of a message it would drop anyway. Any
   * other logger, or a `Logger` whose `log` was replaced (a spy, a subclass), gets every call.
   */
  private logsEvents(): boolean {
    const logger = this.logger;
    return !(logger instanceof Logger) || logger.log !== NEST_LOGGER_LOG || Logger.isLevelEnabled('log');
  }
}
