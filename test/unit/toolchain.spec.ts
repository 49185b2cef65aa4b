import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SessionOptionsError } from '../../src/errors/session.errors.js';

@Controller()
class C {
  @Get('/') hi() { return { ok: true }; }
}
@Module({ controllers: [C] })
class M {}

describe('toolchain', () => {
  it('runs a Nest app under Jest ESM', async () => {
    const mod = await Test.createTestingModule({ imports: [M] }).compile();
    const app = mod.createNestApplication();
    await app.init();
    await request(app.getHttpServer()).get('/').expect(200, { ok: true });
    await app.close();
    expect(new SessionOptionsError('x').message).toBe('SessionModule: x');
  });
});
