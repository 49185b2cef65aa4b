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
  type SessionStore,
} from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
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
  /** Sets two keys, so a later request can change one and leave the other untouched. */
  @Get('two') two(@Session() session: SessionData) {
    session.count = 1;
    session.note = 'kept as is';
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

/**
 * Every stored byte chunk of a session, through the store's public interface, whatever the
 * layout: the fields of a store that keeps one per key (`readFields`), else the one blob (`read`).
 */
export async function storedChunks(store: SessionStore, id: string): Promise<Uint8Array[]> {
  const fieldStore = store as Partial<{ readFields(id: string, lifetime: number): Promise<Map<string, Uint8Array> | null> }>;
  if (typeof fieldStore.readFields === 'function') {
    const fields = await fieldStore.readFields(id, 0);
    if (fields && fields.size > 0) return [...fields.values()];
  }
  const blob = await store.read(id, 0);
  if (!blob || blob.length === 0) throw new Error('the store holds nothing under this ID');
  return [blob];
}

/** The ID a CookieStore "stores" under: the cookie's data part (its `read` unwraps it). */
export const cookieStoreId = (pair: string) => splitCookie(pair).value;

/** The session data the store holds under `id`, decoded as the module would; null if not decodable. */
export function sessionIn(store: SessionStore, id: string, encryptor?: Encryptor): Promise<SessionData | null> {
  return readSessionData(store, id, encryptor ? { encryptor } : {});
}
