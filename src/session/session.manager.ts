import { Inject, Injectable } from '@nestjs/common';
import { SESSION_OPTIONS, SESSION_STORE } from '../session.constants.js';
import { SessionNotLoadedError } from '../errors/session.errors.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { SessionStore } from '../interfaces/session-store.interface.js';
import { SessionCommitter } from '../commit/session-committer.js';
import { SessionEvents } from '../events/session-events.service.js';
import { onHeadersFlush, rawRequest, requestPath, type AnyRequest, type AnyResponse } from '../platform/http-platform.js';
import { NEVER, compileAutoload } from './autoload-paths.js';
import { RequestSession } from './request-session.js';
import { SessionRuntime } from './session-runtime.js';

const MANAGER = Symbol('sessionkit.manager');

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
  session: RequestSession | undefined;
}
const BINDING = Symbol('sessionkit.binding');

type BoundRequest = { [BINDING]?: RequestBinding };

function existingBinding(req: AnyRequest): RequestBinding | undefined {
  return (rawRequest(req) as BoundRequest)[BINDING];
}

function bindingOf(req: AnyRequest): RequestBinding {
  const raw = rawRequest(req) as BoundRequest;
  return (raw[BINDING] ??= { manager: undefined, response: undefined, savesAtFlush: false, session: undefined });
}

/**
 * Binds requests to their session and orchestrates its lifecycle: the session is loaded lazily
 * (`RequestSession`), and committed after the handler, or when the response head is flushed
 * first (`SessionCommitter`).
 */
@Injectable()
export class SessionManager {
  readonly runtime: SessionRuntime;
  private readonly committer: SessionCommitter;
  private readonly autoloadPath: (path: string) => boolean;

  constructor(
    @Inject(SESSION_OPTIONS) options: ResolvedSessionOptions,
    @Inject(SESSION_STORE) store: SessionStore,
    events: SessionEvents,
  ) {
    this.runtime = new SessionRuntime(options, store, events);
    this.committer = new SessionCommitter(this.runtime);
    this.autoloadPath = compileAutoload(options.autoload);
  }

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
    const session = binding.session;
    if (session && !session.response) this.watchResponse(session, res);
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

  shouldAutoload(req: AnyRequest): boolean {
    return this.autoloadPath !== NEVER && this.autoloadPath(requestPath(req));
  }

  /** The request's session, created on first use. */
  sessionFor(req: AnyRequest): RequestSession {
    const binding = bindingOf(req);
    let session = binding.session;
    if (!session) {
      session = binding.session = new RequestSession(this.runtime);
      const res = binding.response;
      if (res !== undefined) {
        // The interceptor commits before the response is written, unless the route answers by
        // itself or the commit is already behind us.
        if (binding.savesAtFlush) this.watchResponse(session, res);
        else session.response = res;
      }
    }
    return session;
  }

  /** The request's session if something already used it. */
  existingSession(req: AnyRequest): RequestSession | undefined {
    return existingBinding(req)?.session;
  }

  /** The request's loaded session; throws `SessionNotLoadedError` otherwise. */
  loadedSession(req: AnyRequest): RequestSession {
    const session = this.existingSession(req);
    if (!session?.loaded) throw new SessionNotLoadedError();
    return session;
  }

  load(req: AnyRequest) {
    return this.sessionFor(req).load(req);
  }

  /** The session ID: the one the verified cookie carries or, once loaded, the current one. */
  getId(req: AnyRequest): string | undefined {
    const session = this.existingSession(req);
    if (session?.skipped || (!session?.loaded && this.runtime.isSkipped(req))) return undefined;
    if (session?.loaded) return session.currentId();
    return this.runtime.cookie.read(req, false)?.id;
  }

  /** Whether the response head went out before the interceptor's commit. */
  headFlushed(req: AnyRequest): boolean {
    return this.existingSession(req)?.flushed === true;
  }

  /**
   * Persists the request's session (if it was used) for a response with `status`; `undefined`
   * when there is nothing to wait for.
   */
  commit(req: AnyRequest, status: number): Promise<void> | undefined {
    const binding = existingBinding(req);
    const session = binding?.session;
    if (!session) {
      // Nothing used the session so far; whatever still does (an exception filter) saves when the head goes out.
      if (binding) binding.savesAtFlush = true;
      return undefined;
    }
    return this.committer.afterHandler(session, status);
  }

  private watchResponse(session: RequestSession, res: AnyResponse): void {
    session.response = res;
    onHeadersFlush(res, (status) => this.committer.atFlush(session, status));
  }
}
