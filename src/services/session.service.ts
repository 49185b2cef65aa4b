import { Injectable } from '@nestjs/common';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { PlatformRequest } from '../interfaces/session-options.interface.js';
import { addFlash, keepFlashes, readFlashes } from '../flash/flash.js';
import { SessionManager } from '../session/session.manager.js';
import type { FlashMessages } from '../session/request-session.js';
import { bindUser } from '../user-sessions/bind-user.js';
import type { UserSessionInfo } from '../user-sessions/user-sessions.js';
import { bindHandshake } from '../websocket/socket-session.js';
import { readSocketSession } from '../websocket/socket-session.reader.js';

/**
 * The session of a request, for code that is not a handler parameter: guards, services,
 * filters. `req` is the platform request (Express or Fastify) that Nest hands out.
 */
@Injectable()
export class SessionService {
  constructor(private readonly manager: SessionManager) {}

  /** Loads the session (once per request, however often it is called) and returns its data. */
  load<T extends SessionData = SessionData>(req: PlatformRequest): Promise<T> {
    return this.manager.load(req) as Promise<T>;
  }

  /** The loaded session data; throws `SessionNotLoadedError` when it was not loaded. */
  get<T extends SessionData = SessionData>(req: PlatformRequest): T {
    return this.manager.loadedSession(req).data as T;
  }

  isLoaded(req: PlatformRequest): boolean {
    return this.manager.existingSession(req)?.loaded === true;
  }

  /**
   * The session ID: the one the verified cookie carries (without its signature) or, once
   * loaded, the current one. `undefined` when there is none.
   */
  getId(req: PlatformRequest): string | undefined {
    return this.manager.getId(req);
  }

  /** Keeps the data under a new ID (call it on login); the old record is removed at commit. */
  regenerate(req: PlatformRequest): Promise<void> {
    return this.manager.sessionFor(req).regenerate(req);
  }

  /** Ends the session: record removed, cookie cleared. Works whether or not it was loaded. */
  destroy(req: PlatformRequest): Promise<void> {
    return this.manager.sessionFor(req).destroy(req);
  }

  /**
   * Remembers a WebSocket client's handshake request, for `@Session()` in gateway handlers.
   * Needed with `@nestjs/platform-ws` (call it in `handleConnection(client, request)`);
   * socket.io clients carry their handshake already.
   */
  bindSocket(client: object, request: { headers: Record<string, string | string[] | undefined> }): void {
    bindHandshake(client, request);
    this.manager.bindSocket(client);
  }

  /** The session of a WebSocket client's handshake cookie: read afresh, read-only. */
  loadForSocket<T extends SessionData = SessionData>(client: object): Promise<Readonly<T>> {
    this.manager.bindSocket(client);
    return readSocketSession(this.manager.runtime, client) as Promise<Readonly<T>>;
  }

  /** Adds a flash message for the next request only (then it is gone). Needs the session loaded. */
  flash(req: PlatformRequest, type: string, message: unknown): void {
    addFlash(this.manager.loadedSession(req), type, message);
  }

  /** The messages the previous request flashed: one type's, or all by type. */
  flashes(req: PlatformRequest): FlashMessages;
  flashes(req: PlatformRequest, type: string): unknown[];
  flashes(req: PlatformRequest, type?: string): FlashMessages | unknown[] {
    return readFlashes(this.manager.loadedSession(req), type);
  }

  /** Keeps the incoming flash messages (one type's, or all) for one more request. */
  keepFlash(req: PlatformRequest, type?: string): void {
    keepFlashes(this.manager.loadedSession(req), type);
  }

  /** Binds the session to a user, for `listForUser` and `revokeAllForUser`. Loads the session. */
  bindUser(req: PlatformRequest, userId: string): Promise<void> {
    return bindUser(this.manager.sessionFor(req), req, userId);
  }

  /** The user's live sessions (newest activity first); `current` marks the one of `req`. */
  listForUser(userId: string, req?: PlatformRequest): Promise<UserSessionInfo[]> {
    return this.manager.runtime.users.list(userId, req ? this.manager.getId(req) : undefined);
  }

  /** Ends the session behind a handle from `listForUser`. Its cookie is anonymous from then on. */
  revoke(handle: string): Promise<boolean> {
    return this.manager.runtime.users.revoke(handle);
  }

  /** Ends all of a user's sessions, or all but the requester's ("log out everywhere else"). */
  revokeAllForUser(userId: string, options: { exceptCurrent?: PlatformRequest } = {}): Promise<number> {
    const { exceptCurrent } = options;
    return this.manager.runtime.users.revokeAll(userId, exceptCurrent ? this.manager.getId(exceptCurrent) : undefined);
  }
}
