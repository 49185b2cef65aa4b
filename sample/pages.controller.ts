import { Body, Controller, Get, Header, Post, Redirect, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import { RegenerateSession, Session, SessionService } from '../src/index.js';
import { HtmlExceptionFilter } from './html-exception.filter.js';
import { renderHomePage, type ActiveSession } from './pages.view.js';
import { countVisit, viewOf, type SampleSession } from './session-data.js';
import { UsernamePipe } from './username.pipe.js';

/** The server-rendered page and its two forms. Both forms answer 303 See Other back to `/`. */
@Controller()
@UseFilters(HtmlExceptionFilter)
export class PagesController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async home(@Session() session: SampleSession, @Req() req: Request): Promise<string> {
    countVisit(session);
    const notices = this.sessions.flashes(req, 'notice').map(String);
    return renderHomePage(viewOf(session), await this.activeSessions(session, req), notices);
  }

  /** A new session ID after a successful login: an ID planted before login is worthless. */
  @Post('login')
  @RegenerateSession()
  @Redirect('/', 303)
  async login(@Session() session: SampleSession, @Body('username', UsernamePipe) username: string, @Req() req: Request): Promise<void> {
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
