import { Injectable, type INestApplicationContext, type NestMiddleware } from '@nestjs/common';
import type { AnyRequest, AnyResponse } from '../platform/http-platform.js';
import { SessionManager } from '../session/session.manager.js';

type Next = (error?: unknown) => void;

/**
 * Loads the session before Express/Fastify middleware that expects `req.session` (Passport's
 * `passport.session()`, csrf-sync, connect-flash, anything written for express-session). Every
 * request it covers pays a session load (a cookie check and, with a cookie, one store read), so
 * apply it to the routes that need it: `consumer.apply(SessionMiddleware, csrf).forRoutes(FormsController)`.
 * A store failure goes to Nest's error handling (503 by default).
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  constructor(private readonly manager: SessionManager) {}

  use(req: AnyRequest, res: AnyResponse, next: Next): void {
    this.manager.loadBeforeRoute(req, res).then(() => next(), next);
  }
}

/**
 * The same as a plain `(req, res, next)` function for `app.use()`, before other global
 * middleware, e.g. express-session's place in front of `passport.session()`:
 * `app.use(sessionMiddleware(app)); app.use(passport.session());`. It loads the session for
 * every request, as express-session does.
 */
export function sessionMiddleware(app: INestApplicationContext): (req: AnyRequest, res: AnyResponse, next: Next) => void {
  const manager = app.get(SessionManager, { strict: false });
  return (req, res, next) => {
    manager.loadBeforeRoute(req, res).then(() => next(), next);
  };
}
