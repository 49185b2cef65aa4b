import type { SessionData } from '../interfaces/session-data.interface.js';
import type { RequestSession } from '../session/request-session.js';

/** Links a session data object to its request's session; never enumerable, never stored. */
const OWNER = Symbol('sessionkit.session');

type Callback = (error?: unknown) => void;

function ownerOf(data: object): RequestSession {
  const owner = (data as { [OWNER]?: RequestSession })[OWNER];
  if (!owner) throw new TypeError('This object is not a session of @sessionkit/nest.');
  return owner;
}

/** Calls back once (express-session style) when given a callback, else returns the promise. */
function settle(work: Promise<unknown>, callback: Callback | undefined): Promise<void> | undefined {
  const done = work.then(() => undefined);
  if (typeof callback !== 'function') return done;
  done.then(
    () => callback(),
    (error: unknown) => callback(error),
  );
  return undefined;
}

const method = (fn: (this: SessionData, ...args: never[]) => unknown): PropertyDescriptor => ({
  value: fn,
  writable: true,
  configurable: true,
  enumerable: false,
});

/**
 * An accessor on the prototype whose setter turns the name into ordinary data: `session.id = x`
 * stores `id` like any key (an own enumerable property shadows the accessor).
 */
function shadowing(name: string, get: (this: SessionData) => unknown): PropertyDescriptor {
  return {
    get,
    set(this: SessionData, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
    },
    configurable: true,
    enumerable: false,
  };
}

/**
 * The prototype of every session data object: express-session's session API, for code written
 * against it (Passport, csrf-sync, connect-flash). Everything here is non-enumerable and
 * inherited, so it is never stored and never seen by `JSON.stringify`, spread or `Object.keys`;
 * a key the application assigns under one of these names is ordinary data that shadows it.
 */
const SESSION_API: object = Object.create(Object.prototype, {
  /** express-session's regenerate: a new ID and an empty session (Passport's login and logout). */
  regenerate: method(function (this: SessionData, callback?: Callback) {
    return settle(ownerOf(this).regenerateEmpty(), callback);
  }),
  /** Persists the session now; calls back once it is stored (Passport saves before redirecting). */
  save: method(function (this: SessionData, callback?: Callback) {
    return settle(ownerOf(this).saveNow(), callback);
  }),
  /** Ends the session: the record is removed and the cookie cleared when the response goes out. */
  destroy: method(function (this: SessionData, callback?: Callback) {
    const owner = ownerOf(this);
    return settle(owner.destroy(owner.request), callback);
  }),
  /** Reads the session again from the store, dropping unsaved changes. */
  reload: method(function (this: SessionData, callback?: Callback) {
    return settle(ownerOf(this).reload(), callback);
  }),
  /** Expiry is the module's business (rolling sessions are touched by every request that loads them). */
  touch: method(function (this: SessionData) {
    return this;
  }),
  id: shadowing('id', function (this: SessionData) {
    return ownerOf(this).currentId();
  }),
  cookie: shadowing('cookie', function (this: SessionData) {
    return ownerOf(this).cookieView();
  }),
});

/** A new session data object for `session`, holding `values` (own enumerable keys). */
export function createSessionData(session: RequestSession, values?: Record<string, unknown>): SessionData {
  const data = Object.create(SESSION_API) as SessionData;
  Object.defineProperty(data, OWNER, { value: session });
  if (values) Object.assign(data, values);
  return data;
}

/** The data as a plain object (own enumerable keys), for serializers that require one. */
export function plainSessionData(data: SessionData): Record<string, unknown> {
  return Object.getPrototypeOf(data) === SESSION_API ? { ...data } : data;
}

/** express-session's session API, as the session data object offers it (typed for callers). */
export interface ExpressSessionApi {
  /** A new ID and an empty session (express-session's semantics; `SessionService.regenerate` keeps the data). */
  regenerate(callback: (error?: unknown) => void): void;
  regenerate(): Promise<void>;
  save(callback: (error?: unknown) => void): void;
  save(): Promise<void>;
  destroy(callback: (error?: unknown) => void): void;
  destroy(): Promise<void>;
  reload(callback: (error?: unknown) => void): void;
  reload(): Promise<void>;
  touch(): this;
  /** The session ID (without its signature). */
  readonly id: string | undefined;
  /** The cookie: set `maxAge` (ms) or `expires` to give this session its own lifetime. */
  readonly cookie: import('./session-cookie-view.js').SessionCookieView;
}

/** The session data object with express-session's API, e.g. `@Session() session: SessionObject<MyData>`. */
export type SessionObject<T extends SessionData = SessionData> = T & ExpressSessionApi;
