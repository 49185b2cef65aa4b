export type SessionEventType = 'created' | 'regenerated' | 'destroyed' | 'expired' | 'revoked';

export interface SessionEvent {
  readonly type: SessionEventType;
  /** A short irreversible reference to the session (never its ID), stable across events. */
  readonly ref: string;
  /** The user the session was bound to, when it was. */
  readonly userId?: string;
  readonly at: Date;
}

export type SessionEventListener = (event: SessionEvent) => void | Promise<void>;
