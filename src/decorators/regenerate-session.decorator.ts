import { SetMetadata } from '@nestjs/common';
import { SESSION_REGENERATE_METADATA } from '../session.constants.js';

/**
 * Gives the session a new ID after the handler succeeds (not when it throws), keeping the data:
 * put it on the login route against session fixation.
 */
export const RegenerateSession = (): MethodDecorator => SetMetadata(SESSION_REGENERATE_METADATA, true);
