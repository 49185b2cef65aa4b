import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Session, SessionService } from '../src/index.js';
import { countVisit, viewOf, type SampleSession, type SessionView } from './session-data.js';
import { UsernamePipe } from './username.pipe.js';

/** A session view plus the token the client sends back in the `x-csrf-token` header. */
export interface ApiSessionView extends SessionView {
  csrfToken: string;
}

/**
 * The page's features as JSON, for `fetch`: `GET /api/session` hands out a CSRF token; every POST
 * sends it in the `x-csrf-token` header (the app-wide CsrfGuard refuses it otherwise, 403).
 */
@Controller('api')
export class ApiController {
  constructor(private readonly sessions: SessionService) {}

  /** Counts a visit, like loading the page, and returns the counter, the user and a CSRF token. */
  @Get('session')
  show(@Session() session: SampleSession, @Req() req: Request): ApiSessionView {
    countVisit(session);
    return { ...viewOf(session), csrfToken: this.sessions.csrfToken(req) };
  }

  /**
   * Body `{ "username": "..." }`; the session gets a new ID, its data is kept, and the answer
   * carries the new session's token: the login rotated the secret, so earlier tokens no longer
   * work. (The ID is regenerated in the handler, not by `@RegenerateSession()`, which runs after
   * the handler and would rotate the secret again, voiding the token returned here.)
   */
  @Post('login')
  @HttpCode(HttpStatus.OK)
  async login(
    @Session() session: SampleSession,
    @Body('username', UsernamePipe) username: string,
    @Req() req: Request,
  ): Promise<ApiSessionView> {
    await this.sessions.regenerate(req);
    session.username = username;
    return { ...viewOf(session), csrfToken: this.sessions.csrfToken(req) };
  }

  /** Ends the session: its record is removed and the cookie cleared. */
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@Req() req: Request): Promise<void> {
    await this.sessions.destroy(req);
  }
}
