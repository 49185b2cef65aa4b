import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { RegenerateSession, Session, SessionService } from '../src/index.js';
import { countVisit, viewOf, type SampleSession, type SessionView } from './session-data.js';
import { UsernamePipe } from './username.pipe.js';

/** The page's features as JSON. */
@Controller('api')
export class ApiController {
  constructor(private readonly sessions: SessionService) {}

  /** Counts a visit, like loading the page, and returns the counter and the user. */
  @Get('session')
  show(@Session() session: SampleSession): SessionView {
    countVisit(session);
    return viewOf(session);
  }

  /** Body `{ "username": "..." }`; the session gets a new ID, its data is kept. */
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @RegenerateSession()
  login(@Session() session: SampleSession, @Body('username', UsernamePipe) username: string): SessionView {
    session.username = username;
    return viewOf(session);
  }

  /** Ends the session: its record is removed and the cookie cleared. */
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@Req() req: Request): Promise<void> {
    await this.sessions.destroy(req);
  }
}
