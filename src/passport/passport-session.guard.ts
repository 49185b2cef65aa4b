import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
// Passport is an optional peer dependency, loaded only by apps that import this subpath.
import passport from 'passport';
import { SessionService } from '../services/session.service.js';

/**
 * The lazy way to use Passport's login sessions: put it before the guards of the routes that log
 * in or need `req.user` (`@UseGuards(PassportSessionGuard, LocalAuthGuard)`). It loads the
 * session, then runs Passport's session strategy (`passport.session()`), which restores
 * `req.user` through your `PassportSerializer` and gives the request `logIn`/`logOut`. Routes
 * without it make no store call. Never refuses a request itself: check `req.user` (or
 * `req.isAuthenticated()`) in a guard of your own after it.
 */
@Injectable()
export class PassportSessionGuard implements CanActivate {
  private readonly restoreUser = passport.session();

  constructor(private readonly sessions: SessionService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest();
    await this.sessions.load(req);
    await new Promise<void>((resolve, reject) => {
      this.restoreUser(req, http.getResponse(), (error?: unknown) => (error ? reject(error) : resolve()));
    });
    return true;
  }
}
