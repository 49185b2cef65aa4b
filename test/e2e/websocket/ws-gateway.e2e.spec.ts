import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Post, Req, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { MemoryStore, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { PLATFORMS, SECRET, createPlatformApp, http, idOf, sessionCookie } from '../../support/session-app.js';

@WebSocketGateway({ path: '/ws' })
class ProfileGateway implements OnGatewayConnection {
  constructor(private readonly sessions: SessionService) {}
  handleConnection(client: object, request: IncomingMessage) {
    this.sessions.bindSocket(client, request);
  }
  @SubscribeMessage('whoami') whoami(@Session() session: SessionData) {
    return { event: 'whoami', data: { user: session.user ?? null } };
  }
  @SubscribeMessage('cart') cart(@Session('cart') cart: string[] | undefined) {
    return { event: 'cart', data: cart ?? [] };
  }
  @SubscribeMessage('rename') rename(@Session() session: SessionData) {
    session.user = 'mallory';
    return { event: 'rename', data: 'saved?' };
  }
  @SubscribeMessage('nested') nested(@Session() session: SessionData) {
    (session.cart as string[]).push('stolen');
    return { event: 'nested', data: 'saved?' };
  }
}

@WebSocketGateway({ path: '/unbound' })
class UnboundGateway {
  @SubscribeMessage('whoami') whoami(@Session() session: SessionData) {
    return { event: 'whoami', data: { user: session.user ?? null } };
  }
}

@Controller()
class AuthController {
  constructor(private readonly sessions: SessionService) {}
  @Post('login') login(@Session() session: SessionData) {
    session.user = 'ada';
    session.cart = ['apple'];
    return { ok: true };
  }
  @Post('logout') async logout(@Req() req: unknown) {
    await this.sessions.destroy(req);
    return { ok: true };
  }
  @Get('me') me(@Session('user') user: unknown) {
    return { user: user ?? null };
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [AuthController],
    providers: [ProfileGateway, UnboundGateway],
  })
  class AppModule {}
  return { store, AppModule };
}

/** A real WebSocket client that sends `{event, data}` frames and awaits the next answer. */
class Client {
  private readonly queue: unknown[] = [];
  private waiting: ((message: unknown) => void) | undefined;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(message);
      } else this.queue.push(message);
    });
  }
  static open(url: string, cookie?: string): Promise<Client> {
    const socket = new WebSocket(url, { headers: cookie ? { Cookie: cookie } : {} });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }
  ask(event: string): Promise<any> {
    this.socket.send(JSON.stringify({ event, data: {} }));
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 3000);
      this.waiting = (message) => {
        clearTimeout(timer);
        resolve(message);
      };
    });
  }
  close() {
    this.socket.close();
  }
}

// WsAdapter attaches to whatever Node HTTP server the platform created (its 'upgrade' event),
// so gateways work the same on Express and on Fastify.
describe.each(PLATFORMS)('WebSocket gateways read the handshake session (platform-ws, real socket) (%s)', (platform) => {
  const { store, AppModule } = fixture();
  let app: INestApplication;
  let base: string;
  let cookie: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = createPlatformApp(moduleRef, platform);
    app.useWebSocketAdapter(new WsAdapter(app));
    await app.listen(0, '127.0.0.1');
    base = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    cookie = sessionCookie(await http(app).post('/login').expect(201))!;
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('@Session() in a @SubscribeMessage handler gives the session of the handshake cookie', async () => {
    const client = await Client.open(`${base}/ws`, cookie);
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { user: 'ada' } });
    expect(await client.ask('cart')).toEqual({ event: 'cart', data: ['apple'] });
    client.close();
  });

  it('a socket without a session cookie sees an empty session', async () => {
    const client = await Client.open(`${base}/ws`);
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { user: null } });
    client.close();
  });

  it('writes from a gateway are refused with an error, never silently lost, and change nothing', async () => {
    const client = await Client.open(`${base}/ws`, cookie);
    const answer = await client.ask('rename');
    expect(answer.event).toBe('exception');
    const nested = await client.ask('nested');
    expect(nested.event).toBe('exception');
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { user: 'ada' } });
    await http(app).get('/me').set('Cookie', cookie).expect(200, { user: 'ada' });
    expect(await readSessionData(store, idOf(cookie)!)).toEqual({ user: 'ada', cart: ['apple'] });
    client.close();
  });

  it('a session destroyed over HTTP is no longer readable from an open socket on its next message', async () => {
    const own = sessionCookie(await http(app).post('/login').expect(201))!;
    const client = await Client.open(`${base}/ws`, own);
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { user: 'ada' } });
    await http(app).post('/logout').set('Cookie', own).expect(201);
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { user: null } });
    client.close();
  });

  it('a ws gateway that never bound the handshake answers with an error, not a guessed session', async () => {
    const client = await Client.open(`${base}/unbound`, cookie);
    expect((await client.ask('whoami')).event).toBe('exception');
    client.close();
  });
});
