import { Body, Controller, Get, Header, Post, Redirect, Req, UseFilters, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { Session, SessionService, type SessionObject } from '../src/index.js';
import { PassportSessionGuard } from '../src/passport/index.js';
import { HtmlExceptionFilter } from './html-exception.filter.js';
import { renderHomePage, type ActiveSession } from './pages.view.js';
import { countVisit, viewOf, type SampleSession } from './session-data.js';
import { NameLoginGuard, type SampleUser } from './passport-login.js';

/**
 * The server-rendered page and its forms. Every form answers 303 See Other back to `/`, and
 * posts the session's CSRF token in its hidden `_csrf` field: the app-wide CsrfGuard (see
 * app.module.ts) refuses a POST without it with 403, rendered by HtmlExceptionFilter.
 */
/** "Remember me": 30 days, in milliseconds as express-session's `cookie.maxAge` counts. */
const REMEMBER_ME_MS = 30 * 24 * 3600 * 1000;

@Controller()
@UseFilters(HtmlExceptionFilter)
export class PagesController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async home(@Session() session: SampleSession, @Req() req: Request): Promise<string> {
    countVisit(session);
    const notices = this.sessions.flashes(req, 'notice').map(String);
    // One token for every form on the page (each call masks it afresh; any of them verifies).
    const page = { csrfToken: this.sessions.csrfToken(req) };
    return renderHomePage(viewOf(session), page, await this.activeSessions(session, req), notices);
  }

  /**
   * Login through Passport: PassportSessionGuard loads the session for Passport, NameLoginGuard
   * signs in and calls `logIn()`, which gives the session a new ID (an ID planted before login is
   * worthless) and keeps the visit counter (`keepSessionInfo`). "Remember me" gives this session
   * 30 days instead of the app's lifetime.
   */
  @Post('login')
  @UseGuards(PassportSessionGuard, NameLoginGuard)
  @Redirect('/', 303)
  async login(@Session() session: SampleSession & SessionObject, @Body('remember') remember: unknown, @Req() req: Request): Promise<void> {
    const username = (req.user as SampleUser).id;
    if (remember === 'on') session.cookie.maxAge = REMEMBER_ME_MS;
    session.username = username;
    // The user name is the sample's user ID: it lists this user's sessions on every device.
    await this.sessions.bindUser(req, username);
    this.sessions.flash(req, 'notice', `Welcome, ${username}.`);
  }

  @Post('logout')
  @Redirect('/', 303)
  async logout(@Req() req: Request): Promise<void> {
    await this.sessions.destroy(req);
  }

  /** "Log out everywhere else": every other session of this user ends; this one stays. */
  @Post('sessions/logout-others')
  @Redirect('/', 303)
  async logoutOthers(@Session() session: SampleSession, @Req() req: Request): Promise<void> {
    if (!session.username) return;
    const ended = await this.sessions.revokeAllForUser(session.username, { exceptCurrent: req });
    this.sessions.flash(req, 'notice', `Logged out ${ended} other session(s).`);
  }

  private async activeSessions(session: SampleSession, req: Request): Promise<ActiveSession[]> {
    if (!session.username) return [];
    try {
      return await this.sessions.listForUser(session.username, req);
    } catch {
      return []; // A store without a per-user index (the custom sample store) lists nothing.
    }
  }
}
