/**
 * Fixture apps and a tiny cookie-jar client for the CSRF e2e and property suites. Not a spec file.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Module,
  Patch,
  Post,
  Put,
  Req,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  CsrfGuard,
  CsrfProtected,
  RegenerateSession,
  Session,
  SessionLock,
  SessionModule,
  SessionService,
  SkipCsrf,
  type SessionCsrfOptions,
  type SessionData,
  type SessionModuleOptions,
  type SessionStore,
} from '../../../src/index.js';
import { SECRET, http, setCookies } from '../../support/session-app.js';

/** The routes every fixture app has: a page that hands out tokens, and state-changing calls. */
@Controller()
class FormController {
  constructor(private readonly sessions: SessionService) {}

  /** What a server-rendered form does: the session is loaded (`@Session()`), then a token. */
  @Get('form')
  form(@Session() _session: SessionData, @Req() req: unknown) {
    return { token: this.sessions.csrfToken(req) };
  }

  /** Several tokens in one response (several forms on one page). */
  @Get('forms')
  forms(@Session() _session: SessionData, @Req() req: unknown) {
    return { tokens: [this.sessions.csrfToken(req), this.sessions.csrfToken(req), this.sessions.csrfToken(req)] };
  }

  /** csrfToken() without loading the session first. */
  @Get('unloaded-token')
  unloadedToken(@Req() req: unknown) {
    try {
      return { token: this.sessions.csrfToken(req) };
    } catch (error) {
      return { error: (error as Error).name, message: (error as Error).message };
    }
  }

  @Get('data')
  data(@Session() session: SessionData) {
    return { keys: Object.keys(session), session: { ...session } };
  }

  @Post('submit')
  @HttpCode(200)
  submit(@Session() session: SessionData, @Body() body: Record<string, unknown> | undefined) {
    session.posts = ((session.posts as number | undefined) ?? 0) + 1;
    return { posts: session.posts, note: body?.note ?? null };
  }
  @Put('submit') put() {
    return { method: 'PUT' };
  }
  @Patch('submit') patch() {
    return { method: 'PATCH' };
  }
  @Delete('submit') remove() {
    return { method: 'DELETE' };
  }

  /** Never uses the session: the guard alone loads it. */
  @Post('lazy')
  @HttpCode(200)
  lazy() {
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  @RegenerateSession()
  login(@Session() session: SessionData, @Body('user') user: string) {
    session.user = user;
    return { user };
  }

  /** A JSON login that hands back the token of the new session: regenerate first, then mint. */
  @Post('api-login')
  @HttpCode(200)
  async apiLogin(@Session() session: SessionData, @Body('user') user: string, @Req() req: unknown) {
    await this.sessions.regenerate(req);
    session.user = user;
    return { user, token: this.sessions.csrfToken(req) };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
  }

  @Post('webhook')
  @HttpCode(200)
  @SkipCsrf()
  webhook() {
    return { ok: true };
  }

  /** Read, pause, write: loses updates unless the lock covers the read. */
  @Post('locked-inc')
  @HttpCode(200)
  @SessionLock()
  async lockedInc(@Session() session: SessionData) {
    const seen = (session.count as number | undefined) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 3));
    session.count = seen + 1;
    return { count: session.count };
  }
}

/** Exempt as a whole, with one route that opts back in. */
@Controller('hooks')
@SkipCsrf()
class HooksController {
  @Post('incoming') @HttpCode(200) incoming() {
    return { ok: true };
  }
  @Post('guarded') @HttpCode(200) @SkipCsrf(false) guarded() {
    return { ok: true };
  }
  @Post('protected') @HttpCode(200) @CsrfProtected() protectedRoute() {
    return { ok: true };
  }
}

/** No global guard: protection per route. */
@Controller('per-route')
class PerRouteController {
  @Post('open') @HttpCode(200) open() {
    return { ok: true };
  }
  @Post('use-guards') @HttpCode(200) @UseGuards(CsrfGuard) useGuards() {
    return { ok: true };
  }
  @Post('decorator') @HttpCode(200) @CsrfProtected() decorator() {
    return { ok: true };
  }
}

export interface CsrfAppOptions {
  store: SessionStore;
  /** Register CsrfGuard as APP_GUARD (default true). */
  global?: boolean;
  csrf?: SessionCsrfOptions;
  /** More module options (storeFailure, skip, …). */
  extra?: Partial<SessionModuleOptions>;
}

export function csrfAppModule({ store, global = true, csrf, extra }: CsrfAppOptions) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false, ...(csrf ? { csrf } : {}), ...extra })],
    controllers: [FormController, HooksController, PerRouteController],
    providers: global ? [{ provide: APP_GUARD, useClass: CsrfGuard }] : [],
  })
  class CsrfAppModule {}
  return CsrfAppModule;
}

/**
 * A browser-like client: keeps the session cookie it is given (and drops it when cleared).
 */
export class Client {
  cookie: string | undefined;

  constructor(private readonly app: INestApplication) {}

  private track(res: { headers: Record<string, unknown> }): void {
    const line = setCookies(res).find((c) => c.startsWith('sid='));
    if (!line) return;
    this.cookie = /max-age=0/i.test(line) ? undefined : line.split(';')[0];
  }

  private withCookie<T extends { set(name: string, value: string): T }>(req: T, cookie = this.cookie): T {
    return cookie ? req.set('Cookie', cookie) : req;
  }

  async token(path = '/form'): Promise<string> {
    const res = await this.withCookie(http(this.app).get(path)).expect(200);
    this.track(res);
    return res.body.token as string;
  }

  /** A JSON POST with the token in the header (or none), optionally with another cookie. */
  async post(path: string, token: string | undefined, body: object = {}, cookie = this.cookie) {
    let req = this.withCookie(http(this.app).post(path), cookie);
    if (token !== undefined) req = req.set('x-csrf-token', token);
    const res = await req.send(body);
    this.track(res);
    return res;
  }

  /** An HTML form post: application/x-www-form-urlencoded, the token in `field`. */
  async form(path: string, fields: Record<string, string>, cookie = this.cookie) {
    const res = await this.withCookie(http(this.app).post(path), cookie).type('form').send(new URLSearchParams(fields).toString());
    this.track(res);
    return res;
  }
}
