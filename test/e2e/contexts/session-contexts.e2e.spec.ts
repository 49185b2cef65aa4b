import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Catch, Controller, Injectable, Module, Post, type INestApplication, type RpcExceptionFilter, UseFilters } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { ClientProxyFactory, Ctx, MessagePattern, Payload, TcpContext, Transport, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:net';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import { Session, SessionModule, SessionService, SessionUnavailableError, type SessionData } from '../../../src/index.js';
import { NEST_ROUTE_ARGS_METADATA } from '../../../src/session.constants.js';
import { SECRET, createPlatformApp, http, idOf, sessionCookie } from '../../support/session-app.js';
import { SpyStore, stored } from '../commit-rules/fixtures.js';

/** Hands the client the error's name and message (Nest's default RPC filter hides both). */
@Catch()
class ErrorNameFilter implements RpcExceptionFilter<Error> {
  catch(exception: Error): Observable<never> {
    return throwError(() => ({ name: exception.name, message: exception.message }));
  }
}

/** A message as a gateway might forward it: with the browser's Cookie header. */
interface ForwardedMessage {
  headers: { cookie?: string };
  item?: string;
}

@Controller()
@UseFilters(ErrorNameFilter)
class HybridController {
  constructor(private readonly sessions: SessionService) {}

  // ---- HTTP: the session is saved ----
  @Post('login') login(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }

  // ---- RPC (TCP): no cookie arrives with a message and none goes back ----
  @MessagePattern('double') double(@Payload() n: number) {
    return n * 2;
  }
  @MessagePattern('whoami') whoami(@Session('user') user: string | undefined) {
    return user ?? null;
  }
  @MessagePattern('add') async add(@Payload() message: ForwardedMessage) {
    const session = await this.sessions.load<{ cart?: string[] }>(message);
    (session.cart ??= []).push(message.item!);
    return 'saved?';
  }
  @MessagePattern('logout') async logout(@Ctx() context: TcpContext) {
    await this.sessions.destroy(context);
    return 'destroyed?';
  }
}

/** A handler of a transport the module does not know, run by Nest's ExternalContextCreator. */
@Injectable()
class QueueConsumer {
  constructor(private readonly sessions: SessionService) {}
  withDecorator(@Session() session: SessionData) {
    session.user = 'mallory';
    return 'saved?';
  }
  async withService(message: ForwardedMessage) {
    const session = await this.sessions.load(message);
    session.user = 'mallory';
    return 'saved?';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// A hybrid app's microservice runs the app's global interceptors only with `inheritAppConfig`:
// the refusal must not depend on them.
describe.each([false, true])('the session in each kind of Nest context: saved where it can be, refused where it cannot, never lost silently (inheritAppConfig: %s)', (inheritAppConfig) => {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [HybridController],
    providers: [QueueConsumer],
  })
  class HybridAppModule {}

  let app: INestApplication;
  let client: ClientProxy;
  let cookie: string;

  beforeAll(async () => {
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({ imports: [HybridAppModule] }).compile();
    // A hybrid app, as most apps with microservices are: HTTP plus a TCP transport on loopback.
    app = createPlatformApp(moduleRef);
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } }, { inheritAppConfig });
    await app.startAllMicroservices();
    await app.init();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
    cookie = sessionCookie(await http(app).post('/login').expect(201))!;
  });
  afterAll(async () => {
    await client.close();
    await app.close();
    store.close();
  });
  beforeEach(() => store.resetCalls());

  const send = (pattern: string, data: unknown) => lastValueFrom(client.send(pattern, data));

  it('http: a change is saved and its cookie sent', async () => {
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
  });

  describe('rpc (TCP microservice)', () => {
    it('a handler that ignores the session works as before', async () => {
      expect(await send('double', 21)).toBe(42);
      expect(store.calls.read).toBe(0);
    });

    it('@Session() rejects with SessionUnavailableError', async () => {
      await expect(send('whoami', { headers: { cookie } })).rejects.toEqual({
        name: 'SessionUnavailableError',
        message: expect.stringContaining('not available in a "rpc" context'),
      });
    });

    it('sessionService.load(message) refuses before anything is read or changed, even with a forwarded cookie', async () => {
      await expect(send('add', { headers: { cookie }, item: 'apple' })).rejects.toEqual(expect.objectContaining({ name: 'SessionUnavailableError' }));
      expect(store.calls).toEqual({ read: 0, write: 0, update: 0, remove: 0, touch: 0 });
      expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
    });

    it('sessionService.destroy(context) refuses too: a logout is never reported done when nothing happened', async () => {
      await expect(send('logout', { headers: { cookie } })).rejects.toEqual(expect.objectContaining({ name: 'SessionUnavailableError' }));
      expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
    });
  });

  describe('a context the module does not know (a custom transport built on ExternalContextCreator)', () => {
    function queueHandler(method: 'withDecorator' | 'withService') {
      const consumer = app.get(QueueConsumer);
      return app.get(ExternalContextCreator).create(
        consumer,
        consumer[method] as (...args: unknown[]) => unknown,
        method,
        NEST_ROUTE_ARGS_METADATA,
        // No built-in parameters in this transport; custom ones (@Session()) are Nest's to resolve.
        { exchangeKeyForValue: () => undefined },
        undefined,
        undefined,
        { guards: true, interceptors: true, filters: false },
        'queue',
      );
    }

    it('@Session() rejects with SessionUnavailableError naming the context', async () => {
      const error = await queueHandler('withDecorator')({ headers: { cookie } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionUnavailableError);
      expect((error as SessionUnavailableError).contextType).toBe('queue');
    });

    it('sessionService.load(message) on its arguments rejects with SessionUnavailableError', async () => {
      await expect(queueHandler('withService')({ headers: { cookie } })).rejects.toBeInstanceOf(SessionUnavailableError);
      expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada' });
    });
  });
});
