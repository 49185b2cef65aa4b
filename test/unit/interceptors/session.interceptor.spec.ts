import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type CallHandler, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { of } from 'rxjs';
import { SessionModule } from '../../../src/index.js';
import { SessionInterceptor } from '../../../src/interceptors/session.interceptor.js';
import { SessionManager } from '../../../src/session/session.manager.js';
import { SECRET, startApp } from '../../support/session-app.js';

@Module({ imports: [SessionModule.forRoot({ secret: SECRET, logger: false })] })
class AppModule {}

/** A context of another transport: anything beyond getType() would be the interceptor touching it. */
function contextOf(type: string): ExecutionContext {
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
    getArgs: untouchable,
    getArgByIndex: untouchable,
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

  it.each(['rpc', 'graphql'])('passes a %s call through untouched: the very observable of the handler', (type) => {
    const handled = of('result');
    const next: CallHandler = { handle: () => handled };
    expect(interceptor.intercept(contextOf(type), next)).toBe(handled);
  });
});
