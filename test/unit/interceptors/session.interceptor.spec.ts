import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type CallHandler, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { of } from 'rxjs';
import { SessionModule, SessionUnavailableError } from '../../../src/index.js';
import { SessionInterceptor } from '../../../src/interceptors/session.interceptor.js';
import { SessionManager } from '../../../src/session/session.manager.js';
import { SECRET, startApp } from '../../support/session-app.js';

@Module({ imports: [SessionModule.forRoot({ secret: SECRET, logger: false })] })
class AppModule {}

/**
 * A context of another transport: only its arguments may be read (to refuse the session there,
 * or to find a GraphQL request); anything else would be the interceptor touching it.
 */
function contextOf(type: string, args: unknown[]): ExecutionContext {
  const untouchable = () => {
    throw new Error(`the interceptor touched a ${type} context`);
  };
  return {
    getType: () => type,
    switchToHttp: untouchable,
    switchToRpc: untouchable,
    switchToWs: untouchable,
    getHandler: untouchable,
    getClass: untouchable,
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
  } as unknown as ExecutionContext;
}

describe('SessionInterceptor outside HTTP', () => {
  let app: INestApplication;
  let interceptor: SessionInterceptor;
  beforeAll(async () => {
    app = await startApp(AppModule);
    interceptor = new SessionInterceptor(app.get(SessionManager, { strict: false }), new Reflector());
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(['rpc', 'kafka-like'])('passes a %s call through (the very observable of the handler), its arguments refusing the session', (type) => {
    const handled = of('result');
    const next: CallHandler = { handle: () => handled };
    const message = { headers: { cookie: 'sid=x' } };
    expect(interceptor.intercept(contextOf(type, [message, {}]), next)).toBe(handled);
    expect(() => app.get(SessionManager, { strict: false }).load(message)).toThrow(SessionUnavailableError);
  });

  it('passes a GraphQL call whose context it cannot read through untouched', () => {
    const handled = of('result');
    const next: CallHandler = { handle: () => handled };
    expect(interceptor.intercept(contextOf('graphql', [{}, {}, undefined, {}]), next)).toBe(handled);
  });
});
