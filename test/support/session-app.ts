import { Logger, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import request from 'supertest';

export const SECRET = 'test-secret-that-is-at-least-32-chars-long!';
export const OLD_SECRET = 'an-older-secret-also-at-least-32-characters';

/** The HTTP platforms the e2e suites run against (`describe.each(PLATFORMS)`). */
export const PLATFORMS = ['express', 'fastify'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Creates (does not start) the app of a compiled testing module on the given platform. */
export function createPlatformApp(moduleRef: TestingModule, platform: Platform = 'express'): INestApplication {
  return platform === 'fastify'
    ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
    : moduleRef.createNestApplication({ logger: false });
}

/**
 * `app.init()`, plus, on Fastify, waiting for the instance to be ready (supertest against a
 * Fastify app needs it).
 */
export async function initApp<T extends INestApplication>(app: T): Promise<T> {
  await app.init();
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') await (adapter.getInstance() as { ready(): Promise<unknown> }).ready();
  return app;
}

/** Builds and starts a Nest app from a fixture root module, on Express unless told otherwise. */
export async function startApp(root: Type<unknown>, platform: Platform = 'express'): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [root] }).compile();
  return initApp(createPlatformApp(moduleRef, platform));
}

/**
 * Makes a started app listen on an ephemeral port of 127.0.0.1 (through `app.listen`, so that
 * `app.close()` also closes the server on both platforms); returns the port. Idempotent.
 */
export async function listen(app: INestApplication): Promise<number> {
  const server = app.getHttpServer();
  if (!server.listening) await app.listen(0, '127.0.0.1');
  return (server.address() as AddressInfo).port;
}

export function http(app: INestApplication) {
  return request(app.getHttpServer());
}

/** The `Set-Cookie` values of a response, as an array. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [String(raw)];
}

/** The session cookie (`name=value`) a response sets, or undefined. */
export function sessionCookie(res: { headers: Record<string, unknown> }, name = 'sid'): string | undefined {
  const line = setCookies(res).find((c) => c.startsWith(`${name}=`));
  return line?.split(';')[0];
}

export function cookieValue(pair: string | undefined): string | undefined {
  return pair?.slice(pair.indexOf('=') + 1);
}

/** The session ID in a `sid=<id>.<sig>` pair. */
export function idOf(pair: string | undefined): string | undefined {
  const value = cookieValue(pair);
  return value?.slice(0, value.lastIndexOf('.'));
}

/** A logger that records every call, for asserting what the module logs. */
export class RecordingLogger implements LoggerService {
  readonly calls: { level: string; message: string }[] = [];
  log(message: unknown) { this.calls.push({ level: 'log', message: String(message) }); }
  warn(message: unknown) { this.calls.push({ level: 'warn', message: String(message) }); }
  error(message: unknown) { this.calls.push({ level: 'error', message: String(message) }); }
  debug(message: unknown) { this.calls.push({ level: 'debug', message: String(message) }); }
  verbose(message: unknown) { this.calls.push({ level: 'verbose', message: String(message) }); }
  messages(level?: string): string[] {
    return this.calls.filter((c) => !level || c.level === level).map((c) => c.message);
  }
}

export const silentLogger = new Logger('test');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
