import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  InjectSessionStore,
  MemoryStore,
  SESSION_OPTIONS,
  SESSION_STORE,
  Session,
  SessionModule,
  SessionOptionsError,
  SessionService,
  type ResolvedSessionOptions,
  type SessionData,
  type SessionStore,
} from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { PLATFORMS, SECRET, createPlatformApp, http, idOf, initApp, sessionCookie, type Platform } from '../../support/session-app.js';

/** A store that needs a provider from another module: built by Nest DI. */
@Injectable()
class StoreBackend {
  readonly records = new Map<string, Uint8Array>();
}
@Module({ providers: [StoreBackend], exports: [StoreBackend] })
class BackendModule {}

@Injectable()
class BackendStore implements SessionStore {
  constructor(readonly backend: StoreBackend) {}
  async read(id: string) { return this.backend.records.get(id) ?? null; }
  async write(id: string, data: Uint8Array) { this.backend.records.set(id, data); return id; }
  async remove(id: string) { this.backend.records.delete(id); }
}

@Injectable()
class ConfigService {
  readonly secret = SECRET;
}
@Module({ providers: [ConfigService], exports: [ConfigService] })
class ConfigModule {}

@Injectable()
class SessionConfig {
  constructor(private readonly config: ConfigService) {}
  createSessionOptions() {
    return { secret: this.config.secret, cookie: { secure: false }, logger: false as const };
  }
}

@Controller()
class CountController {
  constructor(
    @InjectSessionStore() readonly store: SessionStore,
    @Inject(SESSION_OPTIONS) readonly options: ResolvedSessionOptions,
  ) {}
  @Get('count') count(@Session() session: SessionData) {
    session.n = ((session.n as number) ?? 0) + 1;
    return { n: session.n };
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function bootOn(platform: Platform, imports: unknown[]) {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[], controllers: [CountController] }).compile();
  app = createPlatformApp(moduleRef, platform);
  return initApp(app);
}

async function countsTwice(target: INestApplication) {
  const first = await http(target).get('/count').expect(200, { n: 1 });
  await http(target).get('/count').set('Cookie', sessionCookie(first)!).expect(200, { n: 2 });
  return idOf(sessionCookie(first))!;
}

describe.each(PLATFORMS)('SessionModule wiring (%s)', (platform) => {
  const boot = (imports: unknown[]) => bootOn(platform, imports);

  it('forRoot: provides SessionService, SESSION_OPTIONS (defaults applied) and SESSION_STORE', async () => {
    const store = new MemoryStore();
    const target = await boot([SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })]);
    expect(target.get(SessionService)).toBeInstanceOf(SessionService);
    expect(target.get(SESSION_STORE)).toBe(store);
    expect(target.get(SESSION_OPTIONS)).toMatchObject({ lifetime: 1_209_600, rolling: false, cookie: { name: 'sid' } });
    expect(target.get(CountController).store).toBe(store);
    const id = await countsTwice(target);
    expect(await readSessionData(store, id)).toEqual({ n: 2 });
  });

  it('forRoot: defaults to a MemoryStore', async () => {
    const target = await boot([SessionModule.forRoot({ secret: SECRET, cookie: { secure: false }, logger: false })]);
    expect(target.get(SESSION_STORE)).toBeInstanceOf(MemoryStore);
    await countsTwice(target);
  });

  it('forRootAsync with useFactory + inject + imports', async () => {
    const target = await boot([
      SessionModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({ secret: config.secret, cookie: { secure: false }, logger: false }),
      }),
    ]);
    await countsTwice(target);
  });

  it('forRootAsync with useClass', async () => {
    const target = await boot([SessionModule.forRootAsync({ imports: [ConfigModule], useClass: SessionConfig })]);
    await countsTwice(target);
  });

  it('forRootAsync with useExisting', async () => {
    @Module({ imports: [ConfigModule], providers: [SessionConfig], exports: [SessionConfig] })
    class SessionConfigModule {}
    const target = await boot([SessionModule.forRootAsync({ imports: [SessionConfigModule], useExisting: SessionConfig })]);
    await countsTwice(target);
  });

  it('a store given as a class is built by Nest DI and can inject providers of forRootAsync imports', async () => {
    const target = await boot([
      SessionModule.forRootAsync({
        imports: [BackendModule],
        useFactory: () => ({ secret: SECRET, store: BackendStore, cookie: { secure: false }, logger: false }),
      }),
    ]);
    const store = target.get<BackendStore>(SESSION_STORE);
    expect(store).toBeInstanceOf(BackendStore);
    expect(store.backend).toBeInstanceOf(StoreBackend);
    const id = await countsTwice(target);
    expect(store.backend.records.has(id)).toBe(true);
  });

  it('a store class in forRoot can inject a global provider', async () => {
    const { Global } = await import('@nestjs/common');
    @Global()
    @Module({ providers: [StoreBackend], exports: [StoreBackend] })
    class GlobalBackendModule {}
    const target = await boot([GlobalBackendModule, SessionModule.forRoot({ secret: SECRET, store: BackendStore, cookie: { secure: false }, logger: false })]);
    const id = await countsTwice(target);
    expect(target.get<BackendStore>(SESSION_STORE).backend.records.has(id)).toBe(true);
  });

  it('invalid options fail at startup with a clear message (forRoot and forRootAsync)', async () => {
    await expect(boot([SessionModule.forRoot({ secret: 'short' })])).rejects.toThrow(SessionOptionsError);
    await expect(
      boot([SessionModule.forRootAsync({ useFactory: () => ({ secret: SECRET, cookie: { sameSite: 'none', secure: false } }) })]),
    ).rejects.toThrow(/sameSite: 'none'` requires `cookie.secure: true`/);
  });

  it('is global: a feature module injects SessionService without importing SessionModule', async () => {
    @Injectable()
    class Feature {
      constructor(readonly sessions: SessionService) {}
    }
    @Module({ providers: [Feature], exports: [Feature] })
    class FeatureModule {}
    const target = await boot([SessionModule.forRoot({ secret: SECRET, logger: false }), FeatureModule]);
    expect(target.get(Feature).sessions).toBeInstanceOf(SessionService);
  });
});
