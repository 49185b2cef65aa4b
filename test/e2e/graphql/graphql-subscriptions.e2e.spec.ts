import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { Context, Query, Resolver, Subscription } from '@nestjs/graphql';
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { MemoryStore, Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { SECRET, idOf, listen, sessionCookie } from '../../support/session-app.js';
import { DRIVERS, ProfileResolver, gql, graphqlModule, startGraphqlApp, type Driver } from './graphql-fixtures.js';

async function* once(value: string, field: string) {
  yield { [field]: value };
}

@Resolver()
class LiveResolver {
  constructor(private readonly sessions: SessionService) {}

  @Subscription(() => String) greeting(@Session('user') user: string | undefined) {
    return once(`hello ${user ?? 'stranger'}`, 'greeting');
  }
  @Subscription(() => String) tamper(@Session() session: SessionData) {
    session.user = 'mallory';
    return once('saved?', 'tamper');
  }
  @Subscription(() => String) async viaService(@Context() ctx: object) {
    const session = await this.sessions.loadForSocket(ctx);
    return once(`service ${session.user ?? 'stranger'}`, 'viaService');
  }
  @Subscription(() => String) async loadOverSocket(@Context() ctx: object) {
    await this.sessions.load(ctx);
    return once('loaded?', 'loadOverSocket');
  }
  @Query(() => String) live() {
    return 'yes';
  }
}

function fixture(driver: Driver) {
  const store = new MemoryStore();
  @Module({
    imports: [
      SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false }),
      graphqlModule(driver, { subscriptions: true }),
    ],
    providers: [ProfileResolver, LiveResolver],
  })
  class LiveAppModule {}
  return { store, LiveAppModule };
}

type Result = { data?: Record<string, unknown> | null; errors?: readonly { message: string }[] };

/** A graphql-ws client (the graphql-transport-ws protocol, which both drivers speak) sending a cookie. */
function connect(url: string, cookie?: string): Client {
  class CookieSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: cookie ? { cookie } : {} });
    }
  }
  return createClient({ url, webSocketImpl: CookieSocket, retryAttempts: 0, lazy: true });
}

/** The first result of an operation over the socket: data, or the errors it ended with. */
function first(client: Client, query: string): Promise<Result> {
  return new Promise((resolve) => {
    const dispose = client.subscribe<Record<string, unknown>>(
      { query },
      {
        next: (value) => {
          resolve(value as Result);
          dispose();
        },
        error: (error) => resolve({ errors: Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? error) }] }),
        complete: () => undefined,
      },
    );
  });
}

describe.each(DRIVERS)("GraphQL over a WebSocket: the connection's session, read-only ($driver on $platform)", ({ driver }) => {
  const { store, LiveAppModule } = fixture(driver);
  let app: INestApplication;
  let url: string;
  let cookie: string;
  const clients: Client[] = [];
  const open = (withCookie?: string) => {
    const client = connect(url, withCookie);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    app = await startGraphqlApp(driver, LiveAppModule);
    url = `ws://127.0.0.1:${await listen(app)}/graphql`;
    cookie = sessionCookie(await gql(app, 'mutation { login(name: "ada") }').expect(200))!;
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await app.close();
    store.close();
  });

  it('@Session() in a subscription gives the session of the handshake cookie', async () => {
    expect(await first(open(cookie), 'subscription { greeting }')).toEqual({ data: { greeting: 'hello ada' } });
    expect(await first(open(), 'subscription { greeting }')).toEqual({ data: { greeting: 'hello stranger' } });
  });

  it('sessionService.loadForSocket(ctx) reads it too', async () => {
    expect(await first(open(cookie), 'subscription { viaService }')).toEqual({ data: { viaService: 'service ada' } });
  });

  it('a write is refused with SessionReadOnlyError and changes nothing', async () => {
    const result = await first(open(cookie), 'subscription { tamper }');
    expect(result.errors?.[0]?.message).toMatch(/read-only/);
    expect(await readSessionData(store, idOf(cookie)!)).toEqual({ user: 'ada' });
  });

  it('sessionService.load(ctx) over the socket throws SessionUnavailableError instead of handing out a session it cannot save', async () => {
    const result = await first(open(cookie), 'subscription { loadOverSocket }');
    expect(result.errors?.[0]?.message).toMatch(/not available in a "graphql-ws" context/);
  });

  it('each operation reads the session afresh: one destroyed over HTTP is gone on the next subscription', async () => {
    const own = sessionCookie(await gql(app, 'mutation { login(name: "grace") }').expect(200))!;
    const client = open(own);
    expect(await first(client, 'subscription { greeting }')).toEqual({ data: { greeting: 'hello grace' } });
    await gql(app, 'mutation { logout }', own).expect(200);
    expect(await first(client, 'subscription { greeting }')).toEqual({ data: { greeting: 'hello stranger' } });
  });

  it('a mutation sent over the socket cannot change the session either', async () => {
    const result = await first(open(cookie), 'mutation { add(item: "socket") }');
    expect(result.errors?.[0]?.message).toMatch(/read-only/);
    expect(await readSessionData(store, idOf(cookie)!)).toEqual({ user: 'ada' });
  });
});
