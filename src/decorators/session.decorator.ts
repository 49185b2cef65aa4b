import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { SessionManager } from '../session/session.manager.js';

const NOT_IMPORTED = '@Session() needs SessionModule.forRoot() (or forRootAsync()) imported in the root module.';

/**
 * Handler parameter: the session data (`@Session()`) or one value of it (`@Session('cart')`).
 * Its presence is what makes the route load the session; other routes never touch the store.
 * In a WebSocket gateway it gives a read-only view of the handshake cookie's session.
 */
export const Session = createParamDecorator(async (key: string | undefined, ctx: ExecutionContext) => {
  let data;
  if (ctx.getType() === 'ws') {
    const client = ctx.switchToWs().getClient();
    const manager = SessionManager.ofSocket(client);
    if (!manager) throw new Error(NOT_IMPORTED);
    data = await manager.readForSocket(client);
  } else {
    const req = ctx.switchToHttp().getRequest();
    const manager = SessionManager.of(req);
    if (!manager) throw new Error(NOT_IMPORTED);
    data = await manager.load(req);
  }
  return key === undefined ? data : data[key];
});
