/**
 * The fixture app of the load suites (not a spec file): a per-user counter kept in the session.
 * Each virtual user logs in with its own user ID and checks, on every response, that the session
 * it got back is its own and that its counter is exact.
 */
import { Controller, Get, Module, Query, type INestApplication, type Type } from '@nestjs/common';
import { Session, SessionModule, type SessionData, type SessionStore, type StoreFailureMode } from '../../src/index.js';
import { SECRET, startApp } from '../support/session-app.js';

export interface CounterBody {
  /** The user ID the session holds (null: the session arrived empty). */
  user: string | null;
  count: number;
}

@Controller()
class CounterController {
  /** Starts a user's session: its user ID and a zero counter. */
  @Get('login')
  login(@Session() session: SessionData, @Query('user') user: string): CounterBody {
    session.user = user;
    session.count = 0;
    return { user, count: 0 };
  }

  /**
   * Increments the counter. With `?adopt=<user>`, a session that arrived empty (lost with its
   * store) is claimed by that user again; without it an empty session answers `user: null`.
   */
  @Get('inc')
  inc(@Session() session: SessionData, @Query('adopt') adopt?: string): CounterBody {
    if (session.user === undefined && adopt) {
      session.user = adopt;
      session.count = 0;
    }
    const count = ((session.count as number | undefined) ?? 0) + 1;
    session.count = count;
    return { user: (session.user as string | undefined) ?? null, count };
  }

  /** Read-only view of the session. */
  @Get('peek')
  peek(@Session() session: SessionData): CounterBody {
    return { user: (session.user as string | undefined) ?? null, count: (session.count as number | undefined) ?? 0 };
  }

  /** A new session on every cookieless request (the flood). */
  @Get('new')
  fresh(@Session() session: SessionData): { ok: true } {
    session.n = 1;
    return { ok: true };
  }

  /** Never touches the session. */
  @Get('health')
  health(): { ok: true } {
    return { ok: true };
  }
}

/** Builds and starts the counter app on `store` (cookies not `Secure`: plain HTTP, own jars). */
export async function startCounterApp(store: SessionStore, storeFailure: StoreFailureMode = 'reject'): Promise<INestApplication> {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, storeFailure, cookie: { secure: false }, logger: false })],
    controllers: [CounterController],
  })
  class CounterAppModule {}
  return startApp(CounterAppModule as Type<unknown>);
}
