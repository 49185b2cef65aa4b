import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Session, SessionModule, type SessionData } from '../../../src/index.js';
import { SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';

@Controller()
class CounterController {
  @Get('count') count(@Session() session: SessionData) {
    session.n = ((session.n as number) ?? 0) + 1;
    return { n: session.n };
  }
  @Get('noop') noop() { return 'ok'; }
}
@Module({ imports: [SessionModule.forRoot({ secret: SECRET, cookie: { secure: false } })], controllers: [CounterController] })
class AppModule {}

describe('smoke', () => {
  let app: INestApplication;
  beforeAll(async () => { app = await startApp(AppModule); });
  afterAll(async () => { await app.close(); });
  it('counts', async () => {
    const first = await http(app).get('/count').expect(200, { n: 1 });
    const cookie = sessionCookie(first)!;
    expect(cookie).toBeDefined();
    console.log(first.headers);
    await http(app).get('/count').set('Cookie', cookie).expect(200, { n: 2 });
    const noop = await http(app).get('/noop').set('Cookie', cookie).expect(200);
    expect(noop.headers['set-cookie']).toBeUndefined();
  });
});
