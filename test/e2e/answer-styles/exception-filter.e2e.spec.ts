import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Catch,
  Controller,
  Get,
  Module,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MemoryStore, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';

class NotAllowedError extends Error {}

/** Remembers the refusal in the session (a flash-style notice), then answers 403 itself. */
@Catch(NotAllowedError)
class NoticeFilter implements ExceptionFilter {
  constructor(
    private readonly sessions: SessionService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async catch(_error: NotAllowedError, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const session = await this.sessions.load(http.getRequest());
    session.notice = 'not allowed';
    this.adapterHost.httpAdapter.reply(http.getResponse(), { denied: true }, 403);
  }
}

@Controller('filter')
class FilterController {
  /** Never touches the session: only the exception filter does, after the interceptor is done. */
  @Get('denied')
  @UseFilters(NoticeFilter)
  denied() {
    throw new NotAllowedError();
  }

  @Get('notice') notice(@Session() session: SessionData) {
    return { notice: session.notice ?? null };
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [FilterController],
    providers: [NoticeFilter],
  })
  class FilterAppModule {}
  return { store, FilterAppModule };
}

describe.each(PLATFORMS)('answer styles: an exception filter that uses the session (%s)', (platform) => {
  const { store, FilterAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(FilterAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it("saves what the filter wrote and sends the cookie with the filter's response", async () => {
    const denied = await http(app).get('/filter/denied').expect(403, { denied: true });
    const cookie = sessionCookie(denied);
    expect(cookie).toBeDefined();
    await http(app).get('/filter/notice').set('Cookie', cookie!).expect(200, { notice: 'not allowed' });
  });
});
