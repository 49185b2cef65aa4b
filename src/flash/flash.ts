import type { FlashMessages, RequestSession } from '../session/request-session.js';

/** Adds a message for the next request (Rails/Laravel flash). */
export function addFlash(session: RequestSession, type: string, message: unknown): void {
  (session.flashOut[type] ??= []).push(message);
}

/** Messages the previous request flashed: of one type, or all by type. */
export function readFlashes(session: RequestSession, type?: string): FlashMessages | unknown[] {
  return type === undefined ? session.flashIn : (session.flashIn[type] ?? []);
}

/** Keeps this request's incoming messages (of one type, or all) for one more request. */
export function keepFlashes(session: RequestSession, type?: string): void {
  for (const [kind, messages] of Object.entries(session.flashIn)) {
    if (type === undefined || kind === type) (session.flashOut[kind] ??= []).push(...messages);
  }
}
