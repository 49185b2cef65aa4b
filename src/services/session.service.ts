import { Injectable } from '@nestjs/common';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { PlatformRequest } from '../interfaces/session-options.interface.js';
import { addFlash, keepFlashes, readFlashes } from '../flash/flash.js';
import { csrfTokenFor } from '../csrf/csrf-request.js';
import { SessionManager } from '../session/session.manager.js';
import type { FlashMessages } from '../session/request-session.js';
import { bindUser } from '../user-sessions/bind-user.js';
import type { UserSessionInfo } from '../user-sessions/user-sessions.js';
import { bindHandshake } from '../websocket/socket-session.js';
import { readSocketSession } from '../websocket/socket-session.reader.js';
import { requestOf } from '../graphql/graphql-context.js';

/**
 * The session of a request, for code that is not a handler parameter: guards, services,
 * filters, resolvers. `req` is the platform request (Express or Fastify) that Nest hands out,
 * or what a resolver has in hand: the GraphQL context (`@Context()`) or a Fastify reply.
 */
@Injectable()
export class SessionService {
  constructor(private readonly manager: SessionManager) {}

  /** Loads the session (once per request, however often it is called) and returns its data. */
  load<T extends SessionData = SessionData>(req: PlatformRequest): Promise<T> {
    return this.manager.load(requestOf(req)) as Promise<T>;
  }

  /** The loaded session data; throws `SessionNotLoadedError` when it was not loaded. */
  get<T extends SessionData = SessionData>(req: PlatformRequest): T {
    return this.manager.loadedSession(requestOf(req)).data as T;
  }

  isLoaded(req: PlatformRequest): boolean {
    return this.manager.existingSession(requestOf(req))?.loaded === true;
  }

  /**
   * The session ID: the one the verified cookie carries (without its signature) or, once
   * loaded, the current one. `undefined` when there is none.
   */
  getId(req: PlatformRequest): string | undefined {
    return this.manager.getId(requestOf(req));
  }

  /** Keeps the data under a new ID (call it on login); the old record is removed at commit. */
  regenerate(req: PlatformRequest): Promise<void> {
    req = requestOf(req);
    return this.manager.sessionFor(req).regenerate(req);
  }

  /**
   * Gives this session its own lifetime in seconds ("remember me"), replacing the module's
   * `lifetime` for it from now on; `0` makes it a browser-session cookie. Still capped by
   * `maxLifetime`. Needs the session loaded. Same as `session.cookie.maxAge = seconds * 1000`.
   */
  setLifetime(req: PlatformRequest, seconds: number): void {
    this.manager.loadedSession(requestOf(req)).setLifetime(seconds);
  }

  /** Ends the session: record removed, cookie cleared. Works whether or not it was loaded. */
  destroy(req: PlatformRequest): Promise<void> {
    req = requestOf(req);
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

  /**
   * The session of a WebSocket client's handshake cookie: read afresh, read-only. `client` may
   * also be a GraphQL subscription's context (`@Context()`).
   */
  loadForSocket<T extends SessionData = SessionData>(client: object): Promise<Readonly<T>> {
    this.manager.bindSocket(client);
    return readSocketSession(this.manager.runtime, client) as Promise<Readonly<T>>;
  }

  /**
   * A CSRF token for this session's forms (hidden `_csrf` field) and `fetch` calls
   * (`x-csrf-token` header), checked by `CsrfGuard`. Masked afresh on every call, so a page never
   * repeats secret-derived bytes (no BREACH oracle); every token stays valid until the session
   * regenerates (login) or ends. Synchronous, for templates: the session must be loaded
   * (`@Session()`, autoload, or `await load(req)`), else `SessionNotLoadedError`. The first call
   * creates the session's secret, which saves the session (and sends its cookie).
   */
  csrfToken(req: PlatformRequest): string {
    return csrfTokenFor(this.manager.loadedSession(requestOf(req)));
  }

  /** Adds a flash message for the next request only (then it is gone). Needs the session loaded. */
  flash(req: PlatformRequest, type: string, message: unknown): void {
    addFlash(this.manager.loadedSession(requestOf(req)), type, message);
  }

  /** The messages the previous request flashed: one type's, or all by type. */
  flashes(req: PlatformRequest): FlashMessages;
  flashes(req: PlatformRequest, type: string): unknown[];
  flashes(req: PlatformRequest, type?: string): FlashMessages | unknown[] {
    return readFlashes(this.manager.loadedSession(requestOf(req)), type);
  }

  /** Keeps the incoming flash messages (one type's, or all) for one more request. */
  keepFlash(req: PlatformRequest, type?: string): void {
    keepFlashes(this.manager.loadedSession(requestOf(req)), type);
  }

  /** Binds the session to a user, for `listForUser` and `revokeAllForUser`. Loads the session. */
  bindUser(req: PlatformRequest, userId: string): Promise<void> {
    req = requestOf(req);
    return bindUser(this.manager.sessionFor(req), req, userId);
  }

  /** The user's live sessions (newest activity first); `current` marks the one of `req`. */
  listForUser(userId: string, req?: PlatformRequest): Promise<UserSessionInfo[]> {
    return this.manager.runtime.users.list(userId, req ? this.manager.getId(requestOf(req)) : undefined);
  }

  /** Ends the session behind a handle from `listForUser`. Its cookie is anonymous from then on. */
  revoke(handle: string): Promise<boolean> {
    return this.manager.runtime.users.revoke(handle);
  }

  /** Ends all of a user's sessions, or all but the requester's ("log out everywhere else"). */
  revokeAllForUser(userId: string, options: { exceptCurrent?: PlatformRequest } = {}): Promise<number> {
    const { exceptCurrent } = options;
    return this.manager.runtime.users.revokeAll(userId, exceptCurrent ? this.manager.getId(requestOf(exceptCurrent)) : undefined);
  }
}
