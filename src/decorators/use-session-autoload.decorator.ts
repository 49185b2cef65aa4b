import { SetMetadata } from '@nestjs/common';
import { SESSION_AUTOLOAD_METADATA } from '../session.constants.js';

/**
 * Loads the session before the handler runs, on a controller or a route. On a route,
 * `@UseSessionAutoload(false)` overrides both a controller-level decorator and the `autoload`
 * option.
 */
export const UseSessionAutoload = (enabled = true): ClassDecorator & MethodDecorator =>
  SetMetadata(SESSION_AUTOLOAD_METADATA, enabled);
