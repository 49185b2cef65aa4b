import { Inject, Injectable } from '@nestjs/common';
import { SESSION_OPTIONS, SESSION_STORE } from '../session.constants.js';
import { SessionNotLoadedError, SessionUnavailableError } from '../errors/session.errors.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { SessionStore } from '../interfaces/session-store.interface.js';
import { SessionEvents } from '../events/session-events.service.js';
import { isHttpRequest, onHeadersFlush, rawRequest, rawResponse, requestPath, type AnyRequest, type AnyResponse } from '../platform/http-platform.js';
import { NEVER, compileAutoload } from './autoload-paths.js';
import { RequestSession } from './request-session.js';
import { SessionRuntime } from './session-runtime.js';

const MANAGER = Symbol('sessionkit.manager');
const NOT_A_REQUEST =
  'it was handed an object that is not an HTTP request (an RPC message, a transport\'s context), with which no ' +
  'cookie arrives and none can be sent back, so a change could never be saved. Use the session over HTTP, and ' +
  'pass what a microservice needs (a user ID, say) in its message';

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
  /** The request is one whose session could never be saved (`refuse()`): using it throws this. */
  refusal: (() => Error) | undefined;
}
const BINDING = Symbol('sessionkit.binding');

type BoundRequest = { [BINDING]?: RequestBinding };

function existingBinding(req: AnyRequest): RequestBinding | undefined {
  return (rawRequest(req) as BoundRequest)[BINDING];
}

function bindingOf(req: AnyRequest): RequestBinding {
  const raw = rawRequest(req) as BoundRequest;
  return (raw[BINDING] ??= { manager: undefined, response: undefined, savesAtFlush: false, session: undefined, refusal: undefined });
}

/**
 * Binds requests to their session and orchestrates its lifecycle: the session is loaded lazily
 * (`RequestSession`), and committed after the handler, or when the response head is flushed
 * first (`SessionCommitter`).
 */
@Injectable()
export class SessionManager {
  readonly runtime: SessionRuntime;
  private readonly autoloadPath: (path: string) => boolean;

  constructor(
    @Inject(SESSION_OPTIONS) options: ResolvedSessionOptions,
    @Inject(SESSION_STORE) store: SessionStore,
    events: SessionEvents,
  ) {
    this.runtime = new SessionRuntime(options, store, events);
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
    // Loaded by middleware, which sees Fastify's raw response: headers go through the reply.
    else if (session && session.response === rawResponse(res)) session.response = res;
    return true;
  }

  /**
   * For middleware that loads the session before Nest's pipeline: the cookie is decided when the
   * head is flushed if no interceptor commits first (a middleware that answers by itself, a 404).
   */
  loadBeforeRoute(req: AnyRequest, res: AnyResponse): Promise<unknown> {
    const session = this.sessionFor(req);
    if (!session.response) this.watchResponse(session, res);
    return session.load(req);
  }

  static of(req: AnyRequest): SessionManager | undefined {
    return existingBinding(req)?.manager;
  }

  /**
   * Marks `req` as a request (or message) whose session could never be saved: from now on, using
   * its session throws `error()` rather than giving a session whose changes would be lost.
   * Returns the error when something already used the session and nothing will save it (a guard
   * loaded it; `SessionMiddleware`'s sessions are still saved when the head is flushed).
   */
  refuse(req: AnyRequest, error: () => Error): Error | undefined {
    if (!Object.isExtensible(rawRequest(req))) return undefined; // a frozen payload cannot be bound either
    const binding = bindingOf(req);
    binding.refusal ??= error;
    return binding.session && !binding.session.response ? error() : undefined;
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
      if (binding.refusal) throw binding.refusal();
      // An RPC message or a transport's context (when no interceptor marked it: a hybrid app's
      // microservice does not run global interceptors unless it inherits the app's config).
      if (binding.response === undefined && !isHttpRequest(req)) throw new SessionUnavailableError('non-HTTP', NOT_A_REQUEST);
      // Whoever commits later (a GraphQL driver hook) finds the module through the request.
      binding.manager ??= this;
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
    return this.runtime.committer.afterHandler(session, status);
  }

  private watchResponse(session: RequestSession, res: AnyResponse): void {
    session.response = res;
    onHeadersFlush(res, (status) => this.runtime.committer.atFlush(session, status));
  }
}
