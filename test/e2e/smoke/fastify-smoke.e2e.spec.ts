import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Res } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import request from 'supertest';
import { Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { SECRET, sessionCookie } from '../../support/session-app.js';

@Controller()
class CounterController {
  constructor(private readonly s: SessionService) {}
  @Get('count') count(@Session() session: SessionData) {
    session.n = ((session.n as number) ?? 0) + 1;
    return { n: session.n };
  }
  @Get('raw') raw(@Session() session: SessionData, @Res() reply: any) {
    session.raw = true;
    reply.header('set-cookie', 'other=1').send({ ok: true });
  }
  @Get('own') own(@Session() session: SessionData, @Res({ passthrough: true }) reply: any) {
    session.own = true;
    reply.header('set-cookie', 'mine=1');
    return { ok: true };
  }
}
@Module({ imports: [SessionModule.forRoot({ secret: SECRET, cookie: { secure: false }, logger: false })], controllers: [CounterController] })
class AppModule {}

describe('fastify smoke', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const m = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = m.createNestApplication(new FastifyAdapter(), { logger: false });
    await app.init();
    await (app.getHttpAdapter().getInstance() as any).ready();
  });
  afterAll(async () => { await app.close(); });
  it('counts', async () => {
    const first = await request(app.getHttpServer()).get('/count').expect(200, { n: 1 });
    const cookie = sessionCookie(first)!;
    await request(app.getHttpServer()).get('/count').set('Cookie', cookie).expect(200, { n: 2 });
    const raw = await request(app.getHttpServer()).get('/raw');
    console.log(raw.status, raw.headers['set-cookie'], raw.headers.vary);
    const own = await request(app.getHttpServer()).get('/own');
    console.log(own.status, own.headers['set-cookie'], own.headers.vary);
  });
});
