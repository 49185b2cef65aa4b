import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Module, type INestApplication } from '@nestjs/common';
import { delay, map, of, type Observable } from 'rxjs';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

@Controller('returned')
class ReturnedValueController {
  @Get('plain') plain(@Session() session: SessionData) {
    session.style = 'plain';
    return { ok: true };
  }
  @Get('promise') async promise(@Session() session: SessionData) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.style = 'promise';
    return { ok: true };
  }
  /** The change is made inside the returned stream, after the handler function returned. */
  @Get('observable') observable(@Session() session: SessionData): Observable<unknown> {
    return of(1).pipe(
      delay(5),
      map(() => {
        session.style = 'observable';
        return { ok: true };
      }),
    );
  }
  @Get('nothing') @HttpCode(204) nothing(@Session() session: SessionData): void {
    session.style = 'nothing';
  }
  @Get('string') text(@Session() session: SessionData) {
    session.style = 'string';
    return 'hello';
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [ReturnedValueController],
  })
  class ReturnedValueAppModule {}
  return { store, ReturnedValueAppModule };
}

describe.each(PLATFORMS)('answer styles: a returned value (%s)', (platform) => {
  const { store, ReturnedValueAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(ReturnedValueAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it.each([
    ['plain', 200, { ok: true }],
    ['promise', 200, { ok: true }],
    ['observable', 200, { ok: true }],
  ])('%s: the change is saved and the cookie sent with the body', async (style, status, body) => {
    const res = await http(app).get(`/returned/${style}`).expect(status, body);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(await stored(store, idOf(cookie))).toEqual({ style });
  });

  it('a handler that returns nothing (204) still saves and sends the cookie', async () => {
    const res = await http(app).get('/returned/nothing').expect(204);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(await stored(store, idOf(cookie))).toEqual({ style: 'nothing' });
  });

  it('a string body: saved, cookie sent, and the next request sees the data under the same id', async () => {
    const res = await http(app).get('/returned/string').expect(200, 'hello');
    const cookie = sessionCookie(res)!;
    expect(await stored(store, idOf(cookie))).toEqual({ style: 'string' });
    // Changing it again keeps the id and updates the record.
    const again = await http(app).get('/returned/plain').set('Cookie', cookie).expect(200);
    expect(idOf(sessionCookie(again))).toBe(idOf(cookie));
    expect(await stored(store, idOf(cookie))).toEqual({ style: 'plain' });
  });
});
