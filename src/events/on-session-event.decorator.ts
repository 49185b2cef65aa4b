import { SetMetadata } from '@nestjs/common';
import { SESSION_EVENT_METADATA } from '../session.constants.js';
import type { SessionEventType } from './session-event.interface.js';

/**
 * Marks a provider method as a session event listener: `@OnSessionEvent('destroyed', 'revoked')`,
 * or `@OnSessionEvent()` for every event. The method receives a `SessionEvent`.
 */
export const OnSessionEvent = (...types: SessionEventType[]): MethodDecorator => SetMetadata(SESSION_EVENT_METADATA, types);
