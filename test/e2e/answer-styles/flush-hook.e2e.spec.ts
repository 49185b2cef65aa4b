import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Res, Sse, type INestApplication } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { map, of } from 'rxjs';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { platformResponse } from '../../support/platform-response.js';
import { PLATFORMS, SECRET, http, sessionCookie, startApp } from '../../support/session-app.js';

/** Whether the module wrapped the Node response's writeHead (its hook for heads sent before the commit). */
function hooked(res: unknown): boolean {
  const raw = ((res as { raw?: ServerResponse }).raw ?? res) as ServerResponse;
  return Object.prototype.hasOwnProperty.call(raw, 'writeHead');
}

/** Wraps the handler in a function of another name, as logging or transaction decorators do. */
function Wrapped(): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    descriptor.value = function (this: unknown, ...args: unknown[]) {
      return original.apply(this, args);
    };
  };
}

@Controller('hook')
class HookController {
  /** Returns a value: the interceptor commits before anything is written, no hook needed. */
  @Get('returned') returned(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    session.seen = true;
    return { hooked: hooked(res) };
  }
  /** Writes the response itself: the cookie must be decided when the head goes out. */
  @Get('own') own(@Session() session: SessionData, @Res() res: unknown) {
    session.seen = true;
    const reply = platformResponse(res);
    reply.status(200).json({ hooked: hooked(res) });
  }
  /** Nest keys route metadata by the property, not by the (wrapped) function's name. */
  @Get('wrapped')
  @Wrapped()
  wrappedOwn(@Session() session: SessionData, @Res() res: unknown) {
    session.seen = true;
    platformResponse(res).status(200).json({ hooked: hooked(res) });
  }
  @Sse('events') events(@Session() session: SessionData, @Res({ passthrough: true }) res: unknown) {
    session.seen = true;
    return of(1).pipe(map(() => ({ data: { hooked: hooked(res) } })));
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [HookController],
  })
  class HookAppModule {}
  return { store, HookAppModule };
}

// Performance guard: the flushed-head hook costs every request that loads a session, so it is
// installed only on routes that can send the head before the interceptor's commit.
describe.each(PLATFORMS)('answer styles: the flushed-head hook only where needed (%s)', (platform) => {
  const { store, HookAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(HookAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('is not installed on a route that returns its answer, which still gets its cookie', async () => {
    const res = await http(app).get('/hook/returned').expect(200, { hooked: false });
    expect(sessionCookie(res)).toBeDefined();
  });

  it('is installed on a route that writes the response itself, which gets its cookie from it', async () => {
    const res = await http(app).get('/hook/own').expect(200, { hooked: true });
    expect(sessionCookie(res)).toBeDefined();
  });

  it('is installed on a @Res() route whose method another decorator wrapped', async () => {
    const res = await http(app).get('/hook/wrapped').expect(200, { hooked: true });
    expect(sessionCookie(res)).toBeDefined();
  });

  it('is installed on an @Sse() route', async () => {
    const res = await http(app).get('/hook/events').expect(200);
    expect(res.text).toContain('"hooked":true');
    expect(sessionCookie(res)).toBeDefined();
  });
});
