import { SessionReadOnlyError, SessionSocketNotBoundError } from '../errors/session.errors.js';
import type { SessionData } from '../interfaces/session-data.interface.js';

const HANDSHAKE = Symbol('sessionkit.handshake');

type HandshakeHeaders = Record<string, string | string[] | undefined>;

/** Remembers the upgrade request of a `ws` client (socket.io keeps its own handshake). */
export function bindHandshake(client: object, request: { headers: HandshakeHeaders }): void {
  (client as Record<symbol, unknown>)[HANDSHAKE] = { headers: request.headers };
}

/** A request-like object carrying the handshake's headers, for reading the session cookie. */
export function handshakeOf(client: unknown): { headers: HandshakeHeaders } {
  const socket = client as Record<string | symbol, any> | undefined;
  const bound = socket?.[HANDSHAKE];
  if (bound) return bound;
  const headers = socket?.handshake?.headers ?? socket?.request?.headers ?? socket?.upgradeReq?.headers;
  if (headers) return { headers };
  throw new SessionSocketNotBoundError();
}

/**
 * A deep read-only view: a gateway cannot set a cookie, so a change could never be saved;
 * refusing it with a clear error beats losing it silently (starsessions lost them).
 */
export function readOnlyView<T extends object>(data: T): T {
  const views = new WeakMap<object, object>();
  const wrap = (target: object, path: string): object => {
    let view = views.get(target);
    if (!view) {
      view = new Proxy(target, {
        get(object, key, receiver) {
          const value = Reflect.get(object, key, receiver);
          return typeof value === 'object' && value !== null ? wrap(value, `${path}.${String(key)}`) : value;
        },
        set(_object, key) {
          throw new SessionReadOnlyError(`${path}.${String(key)}`);
        },
        deleteProperty(_object, key) {
          throw new SessionReadOnlyError(`${path}.${String(key)}`);
        },
        defineProperty(_object, key) {
          throw new SessionReadOnlyError(`${path}.${String(key)}`);
        },
        setPrototypeOf() {
          throw new SessionReadOnlyError(path);
        },
      });
      views.set(target, view);
    }
    return view;
  };
  return wrap(data, 'session') as T;
}

export type ReadOnlySessionData = Readonly<SessionData>;
