import { Logger, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';

export const SECRET = 'test-secret-that-is-at-least-32-chars-long!';
export const OLD_SECRET = 'an-older-secret-also-at-least-32-characters';

/** Builds and starts a Nest app from a fixture root module. */
export async function startApp(root: Type<unknown>): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [root] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
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
