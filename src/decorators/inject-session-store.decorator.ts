import { Inject } from '@nestjs/common';
import { SESSION_STORE } from '../session.constants.js';

/** Injects the store instance the module uses (`SESSION_STORE`). */
export const InjectSessionStore = (): PropertyDecorator & ParameterDecorator => Inject(SESSION_STORE);
