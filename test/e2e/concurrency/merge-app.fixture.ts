/** The app both per-key merge suites (MemoryStore/RedisStore, PostgresStore) run. */
import { Controller, Get, Module, Param } from '@nestjs/common';
import { Session, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import { SECRET } from '../../support/session-app.js';
import { Gate } from './support.js';

export const PARALLEL = 50;
export const ROUNDS = 20;

export const gates = { current: new Gate() };

@Controller()
class KeysController {
  /**
   * Sets one key after a short pause, as a handler that does some I/O would: the parallel
   * requests all load the session before any of them commits. (Without the pause a MemoryStore
   * serves each request within one macrotask, and even a whole-record store would lose nothing.)
   */
  @Get('set/:k') async set(@Session() session: SessionData, @Param('k') k: string) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    session[k] = `value-of-${k}`;
    return { ok: true };
  }
  @Get('unset/:k') unset(@Session() session: SessionData, @Param('k') k: string) {
    delete session[k];
    return { ok: true };
  }
  /** Loads the session, parks until the test opens the gate, then sets its key. */
  @Get('slow-set/:k') async slowSet(@Session() session: SessionData, @Param('k') k: string) {
    await gates.current.pass();
    session[k] = `value-of-${k}`;
    return { ok: true };
  }
  @Get('all') all(@Session() session: SessionData) {
    return { ...session };
  }
}

export function mergeAppModule(store: SessionStore) {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [KeysController],
  })
  class MergeAppModule {}
  return MergeAppModule;
}
