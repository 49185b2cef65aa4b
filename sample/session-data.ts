import type { SessionData } from '../src/index.js';

/**
 * What the sample keeps in a session. A local type rather than a `declare module` augmentation
 * of `SessionData`, because the sample is compiled together with the library and its tests.
 */
export interface SampleSession extends SessionData {
  visits?: number;
  username?: string;
}

/** The public view of a session, shared by the HTML page and the JSON API. */
export interface SessionView {
  visits: number;
  username: string | null;
}

/** Counts one visit (a page load or a GET /api/session) and returns the new count. */
export function countVisit(session: SampleSession): number {
  session.visits = (session.visits ?? 0) + 1;
  return session.visits;
}

export function viewOf(session: SampleSession): SessionView {
  return { visits: session.visits ?? 0, username: session.username ?? null };
}
