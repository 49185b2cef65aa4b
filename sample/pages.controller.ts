import { Body, Controller, Get, Header, Post, Redirect, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import { RegenerateSession, Session, SessionService } from '../src/index.js';
import { HtmlExceptionFilter } from './html-exception.filter.js';
import { renderHomePage } from './pages.view.js';
import { countVisit, viewOf, type SampleSession } from './session-data.js';
import { UsernamePipe } from './username.pipe.js';

/** The server-rendered page and its two forms. Both forms answer 303 See Other back to `/`. */
@Controller()
@UseFilters(HtmlExceptionFilter)
export class PagesController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  home(@Session() session: SampleSession): string {
    countVisit(session);
    return renderHomePage(viewOf(session));
  }

  /** A new session ID after a successful login: an ID planted before login is worthless. */
  @Post('login')
  @RegenerateSession()
  @Redirect('/', 303)
  login(@Session() session: SampleSession, @Body('username', UsernamePipe) username: string): void {
    session.username = username;
  }

  @Post('logout')
  @Redirect('/', 303)
  async logout(@Req() req: Request): Promise<void> {
    await this.sessions.destroy(req);
  }
}
