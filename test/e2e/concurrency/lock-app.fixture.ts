/** The app both lock suites (RedisStore/MemoryStore, PostgresStore) run: routes with and without @SessionLock(). */
import { Controller, Get, Module } from '@nestjs/common';
import { Session, SessionLock, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import { SECRET } from '../../support/session-app.js';
import { Gate } from './support.js';

export const INCREMENTS = 100;
export const gates = { current: new Gate() };

/** Read, a little I/O, write: the window in which an unlocked concurrent request loses updates. */
async function increment(session: SessionData): Promise<number> {
  const seen = (session.count as number | undefined) ?? 0;
  await new Promise((resolve) => setTimeout(resolve, 2));
  session.count = seen + 1;
  return seen + 1;
}

@Controller()
class LockController {
  @Get('init') init(@Session() session: SessionData) {
    session.count = 0;
    return { ok: true };
  }
  @Get('count') count(@Session() session: SessionData) {
    return { count: session.count };
  }
  @SessionLock()
  @Get('inc')
  async inc(@Session() session: SessionData) {
    return { count: await increment(session) };
  }
  /** The control: the same handler without the lock. */
  @Get('inc-unlocked') async incUnlocked(@Session() session: SessionData) {
    return { count: await increment(session) };
  }
  /** Holds the lock until the test opens the gate. */
  @SessionLock()
  @Get('hold')
  async hold(@Session() session: SessionData) {
    await gates.current.pass();
    session.held = true;
    return { ok: true };
  }
  /** Holds a lock that expires after 200 ms, for as long as the test keeps the gate shut. */
  @SessionLock({ ttl: 200 })
  @Get('hold-short')
  async holdShort(@Session() session: SessionData) {
    await gates.current.pass();
    session.heldShort = true;
    return { ok: true };
  }
  @SessionLock({ wait: 100 })
  @Get('quick')
  quick(@Session() session: SessionData) {
    session.quick = ((session.quick as number | undefined) ?? 0) + 1;
    return { ok: true };
  }
}

export function lockAppModule(store: SessionStore) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [LockController],
  })
  class LockAppModule {}
  return LockAppModule;
}
