import { ConflictException, Inject, Injectable, Logger, type LoggerService } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { parseCookie } from 'cookie';
import { SESSION_OPTIONS, SESSION_STORE } from '../session.constants.js';
import {
  SessionCookieTooLargeError,
  SessionNotLoadedError,
  SessionStoreUnavailableError,
} from '../errors/session.errors.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { LockingSessionStore, SessionStore } from '../interfaces/session-store.interface.js';
import { CookieSigner } from '../cookies/cookie.signer.js';
import { SessionCookieSerializer } from '../cookies/session-cookie.serializer.js';
import { SessionEvents } from '../events/session-events.service.js';
import type { SessionEventType } from '../events/session-event.interface.js';
import { LocalLockTable } from '../locks/local-lock.table.js';
import type { ResolvedSessionLockOptions } from '../locks/session-lock.decorator.js';
import {
  appendSessionHeaders,
  onHeadersFlush,
  rawRequest,
  requestPath,
  type AnyRequest,
  type AnyResponse,
  type SessionHeaders,
} from '../platform/http-platform.js';
import { generateSessionId } from './session-id.js';
import { SessionPersistence, StoreCallError, type CommitPlan, type StoreOperation } from './session-persistence.js';
import { SessionState, type FlashMessages } from './session-state.js';
import { handshakeOf, readOnlyView } from './socket-session.js';

const MANAGER = Symbol('sessionkit.manager');
const NEST_LOGGER_LOG = Logger.prototype.log;
const MAX_USER_AGENT = 256;
/** A commit that had nothing to do: marks the state committed without a pending promise. */
const COMMITTED: Promise<void> = Promise.resolve();

/**
 * What the module keeps per request, in one symbol-keyed property of the Node request. One
 * property, not one per item: each property added to an IncomingMessage costs a V8 map
 * transition. Not a WeakMap: an entry per request made every garbage collection walk the
 * table's ephemerons, and measured slower under load (bench/README.md, finding 4).
 */
interface RequestBinding {
  manager: SessionManager | undefined;
  response: AnyResponse | undefined;
  /**
   * The head may go out before an interceptor commit that covers the session: the route answers
   * by itself (`@Res()`, `@Sse()`), or the commit already ran before anything used the session
   * (an exception filter that loads it).
   */
  savesAtFlush: boolean;
  state: SessionState | undefined;
}
const BINDING = Symbol('sessionkit.binding');

type BoundRequest = { [BINDING]?: RequestBinding };

function existingBinding(req: AnyRequest): RequestBinding | undefined {
  return (rawRequest(req) as BoundRequest)[BINDING];
}

function bindingOf(req: AnyRequest): RequestBinding {
  const raw = rawRequest(req) as BoundRequest;
  return (raw[BINDING] ??= { manager: undefined, response: undefined, savesAtFlush: false, state: undefined });
}

/** One of a user's sessions, as `listForUser` reports it. */
export interface UserSessionInfo {
  /** Pass it to `revoke()`. Not the session ID: a listing never exposes bearer tokens. */
  readonly handle: string;
  readonly created: Date;
  readonly lastSeen: Date;
  readonly expiresAt: Date;
  readonly userAgent?: string;
  /** The session of the request that asked. */
  readonly current: boolean;
}

/** Short, irreversible reference to a session for logs and events: never the ID itself. */
function ref(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 10);
}

/**
 * The request lifecycle: load (lazily, once per request), then commit (after the handler, or
 * when the response head is flushed first). Everything else in the module delegates here.
 */
@Injectable()
export class SessionManager {
  readonly cookies: SessionCookieSerializer;
  private readonly signer: CookieSigner;
  private readonly persistence: SessionPersistence;
  private readonly logger: LoggerService | undefined;
  private readonly autoloadPath: (path: string) => boolean;
  private readonly skipRequest: ((req: AnyRequest) => boolean) | undefined;
  private readonly localLocks = new LocalLockTable();

  constructor(
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    private readonly events: SessionEvents,
  ) {
    this.persistence = new SessionPersistence(options, store);
    this.signer = new CookieSigner(options.secret, this.persistence.maxCookieSize);
    this.cookies = new SessionCookieSerializer(options.cookie);
    this.logger = options.logger === false ? undefined : options.logger;
    this.autoloadPath = compileAutoload(options.autoload);
    const skip = options.skip;
    this.skipRequest = typeof skip === 'string' ? (req) => req.headers?.[skip] !== undefined : skip;
    if (this.persistence.clientSide && !options.encryptor) {
      this.logger?.warn(
        'CookieStore without an encryptor: session data is signed but readable by the client. ' +
          'Set `encryptor` (AesGcmEncryptor or FernetEncryptor) unless the data is public.',
      );
    }
  }

  // ---- request binding -------------------------------------------------------------------

  /**
   * Links the response to the request; false when another interceptor instance already did.
   * `respondsItself`: the route may send the head before the interceptor commits, so the
   * cookie is decided when the head is flushed (a hook other routes do without).
   */
  bind(req: AnyRequest, res: AnyResponse, respondsItself: boolean): boolean {
    const binding = bindingOf(req);
    if (binding.response !== undefined) return false;
    binding.response = res;
    binding.manager = this;
    binding.savesAtFlush = respondsItself;
    // A session a guard or middleware loaded may meet an error response the interceptor never sees.
    const state = binding.state;
    if (state && !state.response) this.watchResponse(state, res);
    return true;
  }

  static of(req: AnyRequest): SessionManager | undefined {
    return existingBinding(req)?.manager;
  }

  /** Lets `@Session()` in a gateway find the module (WebSocket clients have no request). */
  bindSocket(client: object): void {
    (client as Record<symbol, unknown>)[MANAGER] ??= this;
  }

  static ofSocket(client: object): SessionManager | undefined {
    return (client as Record<symbol, SessionManager | undefined>)[MANAGER];
  }

  /** Whether the response head went out before the interceptor's commit. */
  headFlushed(req: AnyRequest): boolean {
    return this.stateOf(req)?.flushed === true;
  }

  shouldAutoload(req: AnyRequest): boolean {
    return this.autoloadPath !== NEVER && this.autoloadPath(requestPath(req));
  }

  // ---- load, read, change ------------------------------------------------------------------

  load(req: AnyRequest): Promise<SessionData> {
    const state = this.stateFor(req);
    if (state.loaded) {
      // Loaded through another object of the same request (Fastify middleware gets the raw one).
      req[this.options.requestProperty] = state.data;
      return Promise.resolve(state.data);
    }
    return (state.loading ??= this.loadInto(req, state));
  }

  get(req: AnyRequest): SessionData {
    return this.loadedState(req).data;
  }

  isLoaded(req: AnyRequest): boolean {
    return this.stateOf(req)?.loaded === true;
  }

  getId(req: AnyRequest): string | undefined {
    const state = this.stateOf(req);
    if (state?.loaded) return state.anonymous ? undefined : (state.id ??= generateSessionId());
    return this.verifyCookie(req, false)?.id;
  }

  async regenerate(req: AnyRequest): Promise<void> {
    await this.load(req);
    const state = this.stateFor(req);
    if (state.anonymous) return;
    if (state.recordId !== undefined && state.snapshot && !state.previous) {
      const { recordId: id, created, accessed, snapshot, userId } = state;
      state.previous = { id, created, accessed, snapshot, userId };
    }
    // A session that had no record yet (a first login) is simply created: nothing to move away from.
    const moved = state.recordId !== undefined || state.regenerated;
    this.forgetRecord(state);
    state.id = generateSessionId();
    state.created = state.accessed = Date.now();
    state.regenerated = moved;
  }

  async destroy(req: AnyRequest): Promise<void> {
    const state = this.stateFor(req);
    if (state.loading) await state.loading;
    if (!state.loaded) {
      if (this.skipRequest?.(req)) state.anonymous = state.skipped = true;
      this.markLoaded(req, state);
    }
    if (state.skipped) return;
    if (state.recordId === undefined && !state.destroyed) {
      // Never loaded (or the store was down): remove what the cookie names without reading it.
      const verified = this.verifyCookie(req, false);
      if (verified) {
        state.removals.push({ id: verified.id, userId: await this.ownerOf(verified.id) });
        state.clientCookieStale = true;
      }
    }
    this.forgetRecord(state);
    for (const key of Object.keys(state.data)) delete state.data[key];
    state.id = state.userId = state.userAgent = undefined;
    state.flashOut = {};
    state.created = state.accessed = Date.now();
    state.regenerated = false;
    state.destroyed = true;
  }

  // ---- flash messages ----------------------------------------------------------------------

  /** Adds a message for the next request (Rails/Laravel flash). */
  flash(req: AnyRequest, type: string, message: unknown): void {
    const state = this.loadedState(req);
    (state.flashOut[type] ??= []).push(message);
  }

  /** Messages the previous request flashed: of one type, or all by type. */
  flashes(req: AnyRequest): FlashMessages;
  flashes(req: AnyRequest, type: string): unknown[];
  flashes(req: AnyRequest, type?: string): FlashMessages | unknown[] {
    const { flashIn } = this.loadedState(req);
    return type === undefined ? flashIn : (flashIn[type] ?? []);
  }

  /** Keeps this request's incoming messages (of one type, or all) for one more request. */
  keepFlash(req: AnyRequest, type?: string): void {
    const state = this.loadedState(req);
    for (const [kind, messages] of Object.entries(state.flashIn)) {
      if (type === undefined || kind === type) (state.flashOut[kind] ??= []).push(...messages);
    }
  }

  // ---- per-user index ----------------------------------------------------------------------

  /** Binds the session to a user: listed by `listForUser`, revoked by `revokeAllForUser`. */
  async bindUser(req: AnyRequest, userId: string): Promise<void> {
    if (typeof userId !== 'string' || userId.length === 0) throw new TypeError('bindUser(): `userId` must be a non-empty string.');
    await this.load(req);
    const state = this.stateFor(req);
    state.userId = userId;
    const agent = req.headers?.['user-agent'];
    state.userAgent = typeof agent === 'string' ? agent.slice(0, MAX_USER_AGENT) : undefined;
  }

  async listForUser(userId: string, req?: AnyRequest): Promise<UserSessionInfo[]> {
    const indexed = this.requireIndex('listForUser');
    const entries = await this.storeCall('index', () => indexed.listUserSessions(userId));
    const current = req ? this.getId(req) : undefined;
    const now = Date.now();
    return entries
      .filter((entry) => entry.expiresAt > now)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map((entry) => ({
        handle: entry.handle,
        created: new Date(entry.created),
        lastSeen: new Date(entry.lastSeen),
        expiresAt: new Date(entry.expiresAt),
        userAgent: entry.userAgent,
        current: entry.sessionId === current,
      }));
  }

  /** Ends the session behind a handle from `listForUser`; false when it is already gone. */
  async revoke(handle: string): Promise<boolean> {
    const indexed = this.requireIndex('revoke');
    const found = await this.storeCall('index', () => indexed.resolveUserSession(handle));
    if (!found) return false;
    await this.storeCall('remove', () => this.store.remove(found.sessionId));
    await this.storeCall('index', () => indexed.unindexUserSession(found.userId, handle));
    this.emit('revoked', found.sessionId, found.userId);
    return true;
  }

  /** Ends every session of a user, or all but the requester's; returns how many ended. */
  async revokeAllForUser(userId: string, options: { exceptCurrent?: AnyRequest } = {}): Promise<number> {
    const keep = options.exceptCurrent ? this.getId(options.exceptCurrent) : undefined;
    const sessions = await this.listForUser(userId, options.exceptCurrent);
    let revoked = 0;
    for (const session of sessions) {
      if (keep !== undefined && session.current) continue;
      if (await this.revoke(session.handle)) revoked++;
    }
    return revoked;
  }

  /** The user an unloaded session is bound to, from the store's index (undefined without one). */
  private async ownerOf(id: string): Promise<string | undefined> {
    const indexed = this.persistence.indexed;
    if (!indexed) return undefined;
    const found = await this.storeCall('index', () => indexed.resolveUserSession(this.persistence.handleOf(id)));
    return found?.userId;
  }

  private requireIndex(method: string) {
    const indexed = this.persistence.indexed;
    if (!indexed) {
      throw new Error(`${method}() needs a store with a per-user index (MemoryStore, RedisStore); this store has none.`);
    }
    return indexed;
  }

  // ---- locking -------------------------------------------------------------------------------

  /**
   * Takes the lock of the request's session (the one its cookie names), waiting up to
   * `options.wait`; resolves to its release. A request without a session cookie locks nothing.
   */
  async lock(req: AnyRequest, options: ResolvedSessionLockOptions): Promise<() => Promise<void>> {
    const id = this.skipRequest?.(req) ? undefined : this.verifyCookie(req, false)?.id;
    if (id === undefined) return async () => undefined;
    const token = randomBytes(16).toString('base64url');
    const locking = this.store as Partial<LockingSessionStore>;
    const acquire =
      typeof locking.acquireLock === 'function'
        ? () => locking.acquireLock!(id, token, options.ttl)
        : async () => this.localLocks.acquire(id, token, options.ttl);
    const release =
      typeof locking.releaseLock === 'function'
        ? () => locking.releaseLock!(id, token)
        : async () => this.localLocks.release(id, token);
    const deadline = Date.now() + options.wait;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      if (await this.storeCall('lock', acquire)) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ConflictException(
          `This session is busy: another request holds its lock (waited ${options.wait} ms). Retry the request.`,
        );
      }
      // The last attempt lands on the deadline itself, not a pause before it.
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    }
    return () => release().catch((error: unknown) => this.logStoreFailure('lock', error));
  }

  // ---- WebSocket gateways --------------------------------------------------------------------

  /**
   * The session named by a WebSocket client's handshake cookie, read afresh for every message
   * (so a session destroyed over HTTP is gone on the next message), and read-only: a gateway
   * cannot send a cookie, so a change could never be saved.
   */
  async readForSocket(client: object): Promise<Readonly<SessionData>> {
    const handshake = handshakeOf(client);
    const state = new SessionState(Date.now());
    if (!this.skipRequest?.(handshake)) {
      const verified = this.verifyCookie(handshake, true);
      if (verified) await this.loadRecord(state, verified.id, verified.secretIndex);
    }
    return readOnlyView(state.data);
  }

  // ---- commit ------------------------------------------------------------------------------

  /**
   * Persists the request's session (if it was used) for a response with `status`. Returns
   * `undefined` when there was nothing to wait for (no session, or nothing to store or send),
   * so the response is not held back by a promise that does nothing.
   */
  commit(req: AnyRequest, status: number): Promise<void> | undefined {
    const binding = existingBinding(req);
    const state = binding?.state;
    if (!state) {
      // Nothing used the session so far; whatever still does (an exception filter) saves when the head goes out.
      if (binding) binding.savesAtFlush = true;
      return undefined;
    }
    if (state.flushed) return this.saveAfterFlush(state, status);
    if (state.committing) return state.committing === COMMITTED ? undefined : state.committing;
    let work: Promise<void> | undefined;
    try {
      work = this.persist(state, status);
    } catch (error) {
      work = Promise.reject(error);
    }
    state.committing = work ?? COMMITTED;
    return work;
  }

  /** Throws (before anything is stored or sent) when the session cannot be encoded or is too large. */
  private persist(state: SessionState, status: number): Promise<void> | undefined {
    if (status >= 500 || state.skipped || !state.loaded) return undefined;
    const plan = this.persistence.plan(state, Date.now());
    // A read-only request with a fixed expiry: no store call, no cookie.
    if (!plan.write && !plan.touch && plan.removals.length === 0 && plan.cookie === undefined && plan.events.length === 0) {
      return undefined;
    }
    // Headers (and the cookie size check) are computed before any store work, so an oversized
    // cookie-store payload fails without side effects.
    const plannedValue = plan.cookie === null ? '' : plan.cookie?.value;
    const planned = plannedValue === undefined ? undefined : this.sessionHeaders(plannedValue, plan);
    return this.execute(plan).then((value) => {
      const res = state.response;
      if (value !== undefined && res) {
        appendSessionHeaders(res, value === plannedValue && planned ? planned : this.sessionHeaders(value, plan));
      }
      this.afterCommit(state, plan, value);
    });
  }

  private execute(plan: CommitPlan): Promise<string | undefined> {
    return this.storeCall('write', () => this.persistence.execute(plan));
  }

  private sessionHeaders(value: string, plan: CommitPlan): SessionHeaders {
    if (value === '') return { setCookie: this.cookies.clearing };
    const signed = this.signer.sign(value);
    const size = this.cookies.sizeOf(signed);
    const limit = this.persistence.maxCookieSize;
    if (size > limit) throw new SessionCookieTooLargeError(size, limit);
    return { setCookie: this.cookies.serialize(signed, plan.cookie?.maxAge) };
  }

  /** Logs and emits what the commit did: a created or regenerated session once it is written. */
  private afterCommit(state: SessionState, plan: CommitPlan, value: string | undefined): void {
    for (const type of plan.events) {
      if (type === 'destroyed') this.emit(type, plan.removals[0]?.id, plan.removals[0]?.userId);
      else if (plan.write && value !== undefined) this.emit(type, value, state.userId);
    }
  }

  private emit(type: SessionEventType, id: string | undefined, userId: string | undefined): void {
    const log = type !== 'expired' && this.logger !== undefined && this.logsEvents();
    if (!log && !this.events.hasListeners) return;
    const reference = id === undefined ? 'none' : ref(id);
    if (log) this.logger!.log(`Session ${type} (ref ${reference})`);
    if (this.events.hasListeners) this.events.emit({ type, ref: reference, userId, at: new Date() });
  }

  /**
   * Nest's own `Logger` filters by level: skip the work of a message it would drop anyway. Any
   * other logger, or a `Logger` whose `log` was replaced (a spy, a subclass), gets every call.
   */
  private logsEvents(): boolean {
    const logger = this.logger;
    return !(logger instanceof Logger) || logger.log !== NEST_LOGGER_LOG || Logger.isLevelEnabled('log');
  }

  // ---- responses whose head is flushed before the interceptor commits ----------------------

  private watchResponse(state: SessionState, res: AnyResponse): void {
    state.response = res;
    onHeadersFlush(res, (status) => this.commitAtFlush(state, status));
  }

  /**
   * The head is being written before commit ran (`@Res()`, `@Sse()`, or an error thrown before
   * the interceptor). Decide the cookie now, synchronously; the store work follows right after
   * and its failures can only be logged.
   */
  private commitAtFlush(state: SessionState, status: number): SessionHeaders | undefined {
    if (state.committing || state.skipped || !state.loaded) return undefined;
    if (status >= 500) {
      state.committing = Promise.resolve();
      return undefined;
    }
    state.flushed = true;
    let plan: CommitPlan;
    let headers: SessionHeaders | undefined;
    try {
      plan = this.persistence.plan(state, Date.now());
      const value = plan.cookie === null ? '' : plan.cookie?.value;
      headers = value === undefined ? undefined : this.sessionHeaders(value, plan);
    } catch (error) {
      state.committing = Promise.resolve();
      this.logger?.error(`Session not saved: ${(error as Error).message}`);
      return undefined;
    }
    state.committing = this.execute(plan).then(
      (value) => {
        this.afterCommit(state, plan, value);
        this.rebase(state, plan, value);
      },
      () => undefined, // already logged
    );
    return headers;
  }

  /** After a flush-time commit, the state describes what is now stored and in the cookie. */
  private rebase(state: SessionState, plan: CommitPlan, value: string | undefined): void {
    if (plan.write) state.recordId = state.id = value;
    else if (plan.snapshot === undefined) state.recordId = state.id = undefined;
    state.snapshot = plan.snapshot;
    state.previous = undefined;
    state.removals.length = 0;
    state.flashIn = {};
    state.clientCookieStale = state.regenerated = state.destroyed = state.reissue = false;
  }

  /**
   * The interceptor's commit for a response whose head was already flushed (an `@Sse()` handler
   * that changes the session once the stream runs, say). Changes to an existing record are still
   * saved (its cookie stays valid); what would need a new cookie cannot be, and is reported.
   */
  private async saveAfterFlush(state: SessionState, status: number): Promise<void> {
    await state.committing;
    if (status >= 500 || state.anonymous || !state.loaded) return;
    let plan: CommitPlan;
    try {
      plan = this.persistence.plan(state, Date.now());
    } catch (error) {
      this.logger?.error(`Session not saved: ${(error as Error).message}`);
      return;
    }
    const needsCookie = plan.write?.mode === 'create' || (this.persistence.clientSide && plan.write !== undefined) || plan.cookie === null;
    if (needsCookie) {
      this.logger?.warn(
        'Session changed after the response head was sent; the change needs a new cookie and was not saved. ' +
          'Change the session before sending the response.',
      );
      return;
    }
    if (!plan.write && plan.removals.length === 0) return;
    try {
      const value = await this.execute({ ...plan, touch: undefined });
      this.rebase(state, plan, value);
    } catch {
      // Logged by execute; the status is already sent.
    }
  }

  // ---- load internals ----------------------------------------------------------------------

  private async loadInto(req: AnyRequest, state: SessionState): Promise<SessionData> {
    if (this.skipRequest?.(req)) {
      state.anonymous = state.skipped = true;
    } else {
      const verified = this.verifyCookie(req, true);
      if (verified) await this.loadRecord(state, verified.id, verified.secretIndex);
    }
    this.markLoaded(req, state);
    return state.data;
  }

  private async loadRecord(state: SessionState, id: string, secretIndex: number): Promise<void> {
    let decoded;
    try {
      decoded = await this.persistence.read(id);
    } catch (error) {
      this.logStoreFailure('read', error);
      if (this.options.storeFailure === 'reject') throw new SessionStoreUnavailableError('read', error);
      state.anonymous = true;
      return;
    }
    if (decoded === null) return this.rejectCookie('unknown or removed session ID');
    if (decoded === undefined) return this.rejectCookie('session data failed to decrypt or deserialize');
    if (this.persistence.expiry.isExpired(decoded, Date.now())) {
      state.removals.push({ id, userId: decoded.meta.userId });
      state.clientCookieStale = true;
      this.emit('expired', id, decoded.meta.userId);
      return this.rejectCookie('session expired');
    }
    state.data = decoded.data;
    state.id = state.recordId = id;
    state.snapshot = decoded.snapshot;
    state.created = decoded.created;
    state.accessed = decoded.accessed;
    state.userId = decoded.meta.userId;
    state.userAgent = decoded.meta.userAgent;
    state.flashIn = { ...(decoded.meta.flash as FlashMessages | undefined) };
    state.reissue = secretIndex > 0;
  }

  private verifyCookie(req: AnyRequest, log: boolean): { id: string; secretIndex: number } | undefined {
    const header: string | undefined = req.headers?.cookie;
    // Cheap pre-check: most requests of a site without a session carry other cookies only.
    if (!header || !header.includes(this.cookies.name)) return undefined;
    const value = parseCookie(header, { decode: (raw) => raw })[this.cookies.name];
    if (value === undefined) return undefined;
    const verified = this.signer.verify(value);
    if (verified.ok) return verified;
    if (log) this.rejectCookie(verified.reason);
    return undefined;
  }

  private rejectCookie(reason: string): void {
    this.logger?.warn(`Rejected session cookie (${reason}); starting a new session.`);
  }

  private markLoaded(req: AnyRequest, state: SessionState): void {
    state.loaded = true;
    state.loading = undefined;
    req[this.options.requestProperty] = state.data;
  }

  /** Schedules the loaded record for removal; the session continues under a new ID. */
  private forgetRecord(state: SessionState): void {
    if (state.recordId !== undefined) {
      state.removals.push({ id: state.recordId, userId: state.userId });
      state.clientCookieStale = true;
    }
    state.recordId = undefined;
    state.snapshot = undefined;
    state.reissue = false;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private loadedState(req: AnyRequest): SessionState {
    const state = this.stateOf(req);
    if (!state?.loaded) throw new SessionNotLoadedError();
    return state;
  }

  private stateOf(req: AnyRequest): SessionState | undefined {
    return existingBinding(req)?.state;
  }

  private stateFor(req: AnyRequest): SessionState {
    const binding = bindingOf(req);
    let state = binding.state;
    if (!state) {
      state = binding.state = new SessionState(Date.now());
      const res = binding.response;
      if (res !== undefined) {
        // The interceptor commits before the response is written, unless the route answers by
        // itself or the commit is already behind us.
        if (binding.savesAtFlush) this.watchResponse(state, res);
        else state.response = res;
      }
    }
    return state;
  }

  /** Runs store work; a failure is logged once and answers 503 (naming the operation that failed). */
  private async storeCall<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const failed = error instanceof StoreCallError ? error.operation : operation;
      const cause = error instanceof StoreCallError ? error.cause : error;
      this.logStoreFailure(failed, cause);
      throw new SessionStoreUnavailableError(failed, cause);
    }
  }

  private logStoreFailure(operation: StoreOperation, error: unknown): void {
    // Store messages are third-party text: anything shaped like a session ID is masked.
    const detail = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/[A-Za-z0-9_-]{20,}/g, '[redacted]');
    this.logger?.error(`Session store ${operation} failed: ${detail}`);
  }
}

/** The default (`autoload: false`): no path to compute per request. */
const NEVER = (): boolean => false;

function compileAutoload(autoload: ResolvedSessionOptions['autoload']): (path: string) => boolean {
  if (autoload === true) return () => true;
  if (autoload === false || autoload.length === 0) return NEVER;
  const prefixes = autoload
    .filter((entry): entry is string => typeof entry === 'string')
    .map((prefix) => (prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix));
  const patterns = autoload.filter((entry): entry is RegExp => entry instanceof RegExp);
  return (path) =>
    // Prefixes match on segment boundaries: '/app' covers '/app' and '/app/x', not '/application'.
    prefixes.some((prefix) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`)) ||
    patterns.some((pattern) => {
      pattern.lastIndex = 0;
      return pattern.test(path);
    });
}
