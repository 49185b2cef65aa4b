/** Fixture pieces shared by the encryption e2e suites: a counter controller and an app factory. */
import { Controller, Get, Module, type Type } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import {
  AesGcmEncryptor,
  FernetEncryptor,
  Session,
  SessionModule,
  type Encryptor,
  type SessionData,
  type SessionModuleOptions,
} from '../../../src/index.js';
import { cookieValue, setCookies } from '../../support/session-app.js';

@Controller()
export class CounterController {
  @Get('count') count(@Session() session: SessionData) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    return { count: session.count };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
}

/** A root module around `SessionModule.forRoot(options)`; one class per app. */
export function sessionApp(name: string, options: SessionModuleOptions): Type {
  @Module({ imports: [SessionModule.forRoot(options)], controllers: [CounterController] })
  class FixtureModule {}
  Object.defineProperty(FixtureModule, 'name', { value: name });
  return FixtureModule;
}

export interface EncryptionScheme {
  name: string;
  newKey(): Buffer | string;
  make(keys: (Buffer | string)[]): Encryptor;
}

export const AES_GCM: EncryptionScheme = {
  name: 'AesGcmEncryptor',
  newKey: () => randomBytes(32),
  make: (keys) => new AesGcmEncryptor(keys as Buffer[]),
};

export const FERNET: EncryptionScheme = {
  name: 'FernetEncryptor',
  // As Python's Fernet.generate_key(): URL-safe base64 (padded) of 32 random bytes.
  newKey: () => randomBytes(32).toString('base64url') + '=',
  make: (keys) => new FernetEncryptor(keys as string[]),
};

/** Whether `encryptor` can decrypt `bytes` (any error counts as "no"). */
export function decrypts(encryptor: Encryptor, bytes: Uint8Array): boolean {
  try {
    encryptor.decrypt(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The JSON inside a record envelope: [1 byte version][created f64][accessed f64][serializer bytes]. */
export function envelopeJson(record: Uint8Array): string {
  const buf = Buffer.from(record);
  if (buf[0] !== 1) throw new Error(`not a version-1 session record (first byte ${buf[0]})`);
  return buf.subarray(17).toString('utf8');
}

export function plainEnvelope(json: string, created = Date.now()): Buffer {
  const header = Buffer.alloc(17);
  header[0] = 1;
  header.writeDoubleBE(created, 1);
  header.writeDoubleBE(created, 9);
  return Buffer.concat([header, Buffer.from(json, 'utf8')]);
}

/** `<value>` and `<signature>` of a `sid=<value>.<signature>` pair. */
export function splitCookie(pair: string): { value: string; signature: string } {
  const raw = cookieValue(pair)!;
  const dot = raw.lastIndexOf('.');
  return { value: raw.slice(0, dot), signature: raw.slice(dot + 1) };
}

export function hmac(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

/** The full Set-Cookie line of the session cookie, if the response has one. */
export function sidLine(res: { headers: Record<string, unknown> }): string | undefined {
  return setCookies(res).find((c) => c.startsWith('sid='));
}
