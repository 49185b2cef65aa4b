import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { parseCookie } from 'cookie';
import { SESSION_OPTIONS, SESSION_STORE, MAX_COOKIE_SIZE } from '../session.constants.js';
import {
  SessionCookieTooLargeError,
  SessionNotLoadedError,
  SessionStoreUnavailableError,
} from '../errors/session.errors.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type {
  ClientSideSessionStore,
  SessionStore,
  SyncEncodingSessionStore,
  UpdatableSessionStore,
} from '../interfaces/session-store.interface.js';
import { CookieSigner } from '../cookies/cookie.signer.js';
import { SessionCookieSerializer } from '../cookies/session-cookie.serializer.js';
import {
  appendSessionHeaders,
  onHeadersFlush,
  rawRequest,
  requestPath,
  type AnyRequest,
  type AnyResponse,
  type SessionHeaders,
} from '../platform/http-platform.js';
import { SessionExpiry } from './session-expiry.js';
import { generateSessionId } from './session-id.js';
import { decodeRecord, encodeRecord } from './session-record.codec.js';
import { SessionState } from './session-state.js';
import { handshakeOf, readOnlyView } from './socket-session.js';

const STATE = Symbol('sessionkit.state');
const RESPONSE = Symbol('sessionkit.response');
const MANAGER = Symbol('sessionkit.manager');

type StoreOperation = 'read' | 'write' | 'remove' | 'touch';

/** What one commit will do, decided synchronously so it can also run at header-flush time. */
interface CommitPlan {
  readonly removals: readonly string[];
  readonly write?: { readonly mode: 'create' | 'update'; readonly id: string; readonly record: Uint8Array; readonly ttl: number };
  readonly touch?: { readonly id: string; readonly ttl: number };
  /**
   * The record a regenerate moves away from, re-sealed with its own unchanged content: it must
   * still exist, or the move is void (a concurrent logout stays a logout).
   */
  readonly movedFrom?: { readonly id: string; readonly record: Uint8Array };
  /** ID (or, for a client-side store, encoded data) to sign into the cookie; `null` clears it. */
  readonly cookie?: { readonly value: string; readonly maxAge: number | undefined } | null;
  readonly events: readonly string[];
  /** The serialized data this plan saves (undefined: the session ends empty). */
  readonly payload?: Uint8Array;
}

/** Keys set to `undefined` do not count: the serializer drops them too. */
function isEmpty(data: SessionData): boolean {
  for (const key in data) if (data[key] !== undefined) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Short, irreversible reference to a session for logs: never the ID itself. */
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
  private readonly expiry: SessionExpiry;
  private readonly logger: LoggerService | undefined;
  private readonly clientSide: boolean;
  private readonly maxCookieSize: number;
  private readonly autoloadPath: (path: string) => boolean;
  private readonly skipRequest: ((req: AnyRequest) => boolean) | undefined;

  constructor(
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
  ) {
    this.clientSide = (store as Partial<ClientSideSessionStore>).clientSide === true;
    this.maxCookieSize = this.clientSide ? (store as ClientSideSessionStore).maxSize : MAX_COOKIE_SIZE;
    this.signer = new CookieSigner(options.secret, this.maxCookieSize);
    this.cookies = new SessionCookieSerializer(options.cookie);
    this.expiry = new SessionExpiry(options, typeof store.touch === 'function' && !this.clientSide);
    this.logger = options.logger === false ? undefined : options.logger;
    this.autoloadPath = compileAutoload(options.autoload);
    const skip = options.skip;
    this.skipRequest =
      typeof skip === 'string' ? (req) => req.headers?.[skip] !== undefined : skip;
    if (this.clientSide && !options.encryptor) {
      this.logger?.warn(
        'CookieStore without an encryptor: session data is signed but readable by the client. ' +
          'Set `encryptor` (AesGcmEncryptor or FernetEncryptor) unless the data is public.',
      );
    }
  }

  // ---- request binding -------------------------------------------------------------------

  /** Links the response to the request; false when another interceptor instance already did. */
  bind(req: AnyRequest, res: AnyResponse): boolean {
    const raw = rawRequest(req) as unknown as Record<symbol, unknown>;
    if (raw[RESPONSE] !== undefined) return false;
    raw[RESPONSE] = res;
    raw[MANAGER] = this;
    const state = raw[STATE] as SessionState | undefined;
    if (state && !state.response) this.watchResponse(state, res);
    return true;
  }

  static of(req: AnyRequest): SessionManager | undefined {
    return (rawRequest(req) as unknown as Record<symbol, SessionManager | undefined>)[MANAGER];
  }

  /** Lets `@Session()` in a gateway find the module (WebSocket clients have no request). */
  bindSocket(client: object): void {
    (client as Record<symbol, unknown>)[MANAGER] ??= this;
  }

  static ofSocket(client: object): SessionManager | undefined {
    return (client as Record<symbol, SessionManager | undefined>)[MANAGER];
  }

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

  /** Whether the response head went out before the interceptor's commit. */
  headFlushed(req: AnyRequest): boolean {
    return this.stateOf(req)?.flushed === true;
  }

  shouldAutoload(req: AnyRequest): boolean {
    return this.autoloadPath(requestPath(req));
  }

  // ---- public operations (SessionService delegates here) ---------------------------------

  load(req: AnyRequest): Promise<SessionData> {
    const state = this.stateFor(req);
    if (state.loaded) return Promise.resolve(state.data);
    return (state.loading ??= this.loadInto(req, state));
  }

  get(req: AnyRequest): SessionData {
    const state = this.stateOf(req);
    if (!state?.loaded) throw new SessionNotLoadedError();
    return state.data;
  }

  isLoaded(req: AnyRequest): boolean {
    return this.stateOf(req)?.loaded === true;
  }

  getId(req: AnyRequest): string | undefined {
    const state = this.stateOf(req);
    if (state?.loaded) return state.anonymous ? undefined : (state.id ??= this.newId());
    const verified = this.verifyCookie(req, false);
    return verified?.id;
  }

  async regenerate(req: AnyRequest): Promise<void> {
    await this.load(req);
    const state = this.stateFor(req);
    if (state.anonymous) return;
    if (state.recordId !== undefined && state.original && !state.previous) {
      state.previous = { id: state.recordId, created: state.created, accessed: state.accessed, original: state.original };
    }
    this.forgetRecord(state);
    state.id = this.newId();
    state.created = state.accessed = Date.now();
    state.regenerated = true;
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
        state.removals.push(verified.id);
        state.clientCookieStale = true;
      }
    }
    this.forgetRecord(state);
    for (const key of Object.keys(state.data)) delete state.data[key];
    state.id = undefined;
    state.created = state.accessed = Date.now();
    state.regenerated = false;
    state.destroyed = true;
  }

  /** Persists the request's session (if it was used) for a response with `status`. */
  commit(req: AnyRequest, status: number): Promise<void> {
    const state = this.stateOf(req);
    if (!state) return Promise.resolve();
    if (state.flushed) return this.saveAfterFlush(state, status);
    return (state.committing ??= this.persist(state, status));
  }

  // ---- load --------------------------------------------------------------------------------

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
    let bytes: Uint8Array | null;
    try {
      bytes = await this.store.read(id, this.options.lifetime);
    } catch (error) {
      this.logStoreFailure('read', error);
      if (this.options.storeFailure === 'reject') throw new SessionStoreUnavailableError('read', error);
      state.anonymous = true;
      return;
    }
    if (!bytes || bytes.length === 0) return this.rejectCookie('unknown or removed session ID');

    let record;
    let data: SessionData;
    try {
      record = decodeRecord(this.options.encryptor ? this.options.encryptor.decrypt(bytes) : bytes);
      data = this.options.serializer.deserialize(record.payload) as SessionData;
    } catch {
      return this.rejectCookie('session data failed to decrypt or deserialize');
    }
    if (this.expiry.isExpired(record, Date.now())) {
      state.removals.push(id);
      state.clientCookieStale = true;
      return this.rejectCookie('session expired');
    }
    state.data = data;
    state.id = state.recordId = id;
    state.original = record.payload;
    state.created = record.created;
    state.accessed = record.accessed;
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
      state.removals.push(state.recordId);
      state.clientCookieStale = true;
    }
    state.recordId = undefined;
    state.original = undefined;
    state.reissue = false;
  }

  // ---- commit ------------------------------------------------------------------------------

  private async persist(state: SessionState, status: number): Promise<void> {
    if (status >= 500 || state.skipped || !state.loaded) return;
    const plan = this.plan(state, Date.now());
    // Headers (and the cookie size check) are computed before any store work, so an oversized
    // cookie-store payload fails without side effects.
    const planned = plan.cookie === undefined ? undefined : this.sessionHeaders(plan.cookie === null ? '' : plan.cookie.value, plan);
    const value = await this.execute(plan);
    const res = state.response;
    if (value !== undefined && res) {
      const unchanged = plan.cookie !== undefined && value === (plan.cookie === null ? '' : plan.cookie.value);
      appendSessionHeaders(res, unchanged && planned ? planned : this.sessionHeaders(value, plan));
    }
    this.logEvents(plan);
  }

  /** Synchronous: decides store operations and the cookie. Throws before anything is sent. */
  private plan(state: SessionState, now: number): CommitPlan {
    const removals = [...state.removals];
    if (state.anonymous) return { removals, events: [] };

    const events: string[] = [];
    if (state.destroyed) events.push('destroyed');
    if (isEmpty(state.data)) {
      // A session that had data and is now empty leaves no record and no cookie behind.
      if (state.recordId !== undefined) removals.push(state.recordId);
      const clear = state.clientCookieStale || state.recordId !== undefined;
      return { removals, cookie: clear ? null : undefined, events };
    }

    const payload = this.options.serializer.serialize(state.data);
    const left = this.expiry.remainingMs(state.created, now);
    const remaining = this.expiry.storeTtl(left);
    const maxAge = this.expiry.cookieMaxAge(left);
    const changed = state.recordId === undefined || !state.original || !sameBytes(payload, state.original);

    if (!changed) {
      const id = state.recordId as string;
      if (this.options.rolling && typeof this.store.touch === 'function' && !this.clientSide) {
        return { removals, touch: { id, ttl: remaining }, cookie: { value: id, maxAge }, events, payload };
      }
      if (!this.options.rolling) {
        return { removals, cookie: state.reissue ? { value: id, maxAge } : undefined, events, payload };
      }
      // Rolling on a store without touch: rewrite the record so the last access moves.
    }

    const record = this.seal(state.created, now, payload);
    if (state.recordId === undefined) {
      events.push(state.regenerated ? 'regenerated' : 'created');
      const id = (state.id ??= this.newId());
      const previous = state.regenerated && !state.destroyed ? state.previous : undefined;
      const movedFrom = previous && { id: previous.id, record: this.seal(previous.created, previous.accessed, previous.original) };
      return { removals, movedFrom, write: { mode: 'create', id, record, ttl: remaining }, cookie: this.cookieFor(id, record, remaining, maxAge), events, payload };
    }
    const id = state.recordId;
    return { removals, write: { mode: 'update', id, record, ttl: remaining }, cookie: this.cookieFor(id, record, remaining, maxAge), events, payload };
  }

  private seal(created: number, now: number, payload: Uint8Array): Uint8Array {
    const record = encodeRecord({ created, accessed: now }, payload);
    return this.options.encryptor ? this.options.encryptor.encrypt(record) : record;
  }

  /** For a client-side store the cookie carries the record itself, so it is encoded here. */
  private cookieFor(id: string, record: Uint8Array, ttl: number, maxAge: number | undefined) {
    if (!this.clientSide) return { value: id, maxAge };
    const value = (this.store as unknown as SyncEncodingSessionStore).encodeSync(id, record, this.options.lifetime, ttl);
    return { value, maxAge };
  }

  /**
   * Runs the plan's store operations; resolves to the cookie value to sign (undefined: send no
   * cookie, '' : clear it). Store failures become a 503 and no cookie is sent.
   */
  private async execute(plan: CommitPlan): Promise<string | undefined> {
    let value = plan.cookie === null ? '' : plan.cookie?.value;
    if (this.clientSide) return value;
    const { write, touch, movedFrom } = plan;
    const { lifetime } = this.options;
    const updatable = this.store as Partial<UpdatableSessionStore>;
    const update = typeof updatable.update === 'function' ? updatable.update.bind(this.store) : undefined;
    if (touch) await this.callStore('touch', () => this.store.touch!(touch.id, touch.ttl));
    if (write) {
      const written =
        write.mode === 'update' && update
          ? await this.callStore('write', () => update(write.id, write.record, lifetime, write.ttl))
          : await this.callStore('write', () => this.store.write(write.id, write.record, lifetime, write.ttl));
      // null: a concurrent request destroyed this session; it stays destroyed.
      value = written === null ? undefined : written || write.id;
    }
    // Everything after the write is undone on failure, so a 5xx changes nothing: the new record
    // is taken back and the old one was never altered.
    const created = write?.mode === 'create' ? value : undefined;
    try {
      if (movedFrom && update) {
        // A regenerate whose old record a concurrent request destroyed must not bring its data
        // back under the new ID.
        const alive = await this.callStore('write', () => update(movedFrom.id, movedFrom.record, lifetime, write?.ttl ?? 1));
        if (alive === null) {
          if (created !== undefined) await this.callStore('remove', () => this.store.remove(created));
          return undefined;
        }
      }
      for (const id of plan.removals) await this.callStore('remove', () => this.store.remove(id));
    } catch (error) {
      if (created !== undefined) await this.store.remove(created).catch(() => undefined);
      throw error;
    }
    return value;
  }

  private sessionHeaders(value: string, plan: CommitPlan): SessionHeaders {
    if (value === '') return { setCookie: this.cookies.clearing };
    const signed = this.signer.sign(value);
    const size = this.cookies.sizeOf(signed);
    if (size > this.maxCookieSize) throw new SessionCookieTooLargeError(size, this.maxCookieSize);
    return { setCookie: this.cookies.serialize(signed, plan.cookie?.maxAge) };
  }

  private async callStore<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.logStoreFailure(operation, error);
      throw new SessionStoreUnavailableError(operation, error);
    }
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
      plan = this.plan(state, Date.now());
      const value = plan.cookie === null ? '' : plan.cookie?.value;
      headers = value === undefined ? undefined : this.sessionHeaders(value, plan);
    } catch (error) {
      state.committing = Promise.resolve();
      this.logger?.error(`Session not saved: ${(error as Error).message}`);
      return undefined;
    }
    state.committing = this.execute(plan).then(
      (value) => {
        this.logEvents(plan);
        this.rebase(state, plan, value);
      },
      () => undefined, // already logged by callStore
    );
    return headers;
  }

  /** After a flush-time commit, the state describes what is now stored and in the cookie. */
  private rebase(state: SessionState, plan: CommitPlan, value: string | undefined): void {
    if (plan.write) state.recordId = state.id = value;
    else if (plan.payload === undefined) state.recordId = state.id = undefined;
    state.original = plan.payload;
    state.previous = undefined;
    state.removals.length = 0;
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
      plan = this.plan(state, Date.now());
    } catch (error) {
      this.logger?.error(`Session not saved: ${(error as Error).message}`);
      return;
    }
    const needsCookie = plan.write?.mode === 'create' || (this.clientSide && plan.write !== undefined) || plan.cookie === null;
    if (needsCookie) {
      this.logger?.warn('Session changed after the response head was sent; the change needs a new cookie and was not saved. Change the session before sending the response.');
      return;
    }
    if (!plan.write && plan.removals.length === 0) return;
    try {
      const value = await this.execute({ ...plan, touch: undefined });
      this.rebase(state, plan, value);
    } catch {
      // Logged by callStore; the status is already sent.
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private stateOf(req: AnyRequest): SessionState | undefined {
    return (rawRequest(req) as unknown as Record<symbol, SessionState | undefined>)[STATE];
  }

  private stateFor(req: AnyRequest): SessionState {
    const raw = rawRequest(req) as unknown as Record<symbol, unknown>;
    let state = raw[STATE] as SessionState | undefined;
    if (!state) {
      state = new SessionState(Date.now());
      raw[STATE] = state;
      const res = raw[RESPONSE];
      if (res !== undefined) this.watchResponse(state, res);
    }
    return state;
  }

  private newId(): string {
    return generateSessionId();
  }

  private logEvents(plan: CommitPlan): void {
    if (!this.logger) return;
    const subject = plan.write?.id ?? plan.removals[0];
    for (const event of plan.events) {
      this.logger.log(`Session ${event}${subject ? ` (ref ${ref(subject)})` : ''}`);
    }
  }

  private logStoreFailure(operation: StoreOperation, error: unknown): void {
    // Store messages are third-party text: anything shaped like a session ID is masked.
    const detail = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/[A-Za-z0-9_-]{20,}/g, '[redacted]');
    this.logger?.error(`Session store ${operation} failed: ${detail}`);
  }
}

function compileAutoload(autoload: ResolvedSessionOptions['autoload']): (path: string) => boolean {
  if (autoload === true) return () => true;
  if (autoload === false || autoload.length === 0) return () => false;
  const prefixes = autoload.filter((entry): entry is string => typeof entry === 'string').map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p));
  const patterns = autoload.filter((entry): entry is RegExp => entry instanceof RegExp);
  return (path) =>
    // Prefixes match on segment boundaries: '/app' covers '/app' and '/app/x', not '/application'.
    prefixes.some((prefix) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`)) ||
    patterns.some((pattern) => {
      pattern.lastIndex = 0;
      return pattern.test(path);
    });
}
