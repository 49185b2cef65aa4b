import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { SessionManager } from '../session/session.manager.js';

/**
 * Handler parameter: the session data (`@Session()`) or one value of it (`@Session('cart')`).
 * Its presence is what makes the route load the session; other routes never touch the store.
 */
export const Session = createParamDecorator(async (key: string | undefined, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest();
  const manager = SessionManager.of(req);
  if (!manager) {
    throw new Error('@Session() needs SessionModule.forRoot() (or forRootAsync()) imported in the root module.');
  }
  const data = await manager.load(req);
  return key === undefined ? data : data[key];
});
