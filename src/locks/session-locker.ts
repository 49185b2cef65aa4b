import { ConflictException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AnyRequest } from '../platform/http-platform.js';
import type { SessionRuntime } from '../session/session-runtime.js';
import type { ResolvedSessionLockOptions } from './session-lock.decorator.js';

/**
 * Takes the lock of the request's session (the one its cookie names), waiting up to
 * `options.wait`; resolves to its release. A request without a session cookie locks nothing.
 * Across processes with a store that can lock, within this process otherwise.
 */
export async function lockSession(runtime: SessionRuntime, req: AnyRequest, options: ResolvedSessionLockOptions): Promise<() => Promise<void>> {
  const id = runtime.isSkipped(req) ? undefined : runtime.cookie.read(req, false)?.id;
  if (id === undefined) return async () => undefined;
  const { store } = runtime;
  const token = randomBytes(16).toString('base64url');
  const deadline = Date.now() + options.wait;
  for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
    if (await store.acquireLock(id, token, options.ttl)) break;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ConflictException(`This session is busy: another request holds its lock (waited ${options.wait} ms). Retry the request.`);
    }
    // The last attempt lands on the deadline itself, not a pause before it.
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
  }
  // A failed release is logged by the store adapter; the lock then expires by its TTL.
  return () => store.releaseLock(id, token).catch(() => undefined);
}
