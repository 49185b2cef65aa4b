export { SessionModule } from './session.module.js';
export { SESSION_OPTIONS, SESSION_STORE } from './session.constants.js';
export { SessionService } from './services/session.service.js';
export { SessionMiddleware, sessionMiddleware } from './middleware/session.middleware.js';
export { connectRedisSource, expressSessionStoreSource, type LegacySessionSource, type ConnectRedisSourceOptions } from './legacy/legacy-session.source.js';

export { Session } from './decorators/session.decorator.js';
export { UseSessionAutoload } from './decorators/use-session-autoload.decorator.js';
export { RegenerateSession } from './decorators/regenerate-session.decorator.js';
export { InjectSessionStore } from './decorators/inject-session-store.decorator.js';
export { SessionLock, type SessionLockOptions } from './locks/session-lock.decorator.js';
export { OnSessionEvent } from './events/on-session-event.decorator.js';
export { SessionEvents } from './events/session-events.service.js';
export type { SessionEvent, SessionEventType, SessionEventListener } from './events/session-event.interface.js';
export type { UserSessionInfo } from './user-sessions/user-sessions.js';
export type { FlashMessages } from './session/request-session.js';
export { CsrfGuard } from './csrf/csrf.guard.js';
export { SkipCsrf, CsrfProtected } from './csrf/csrf.decorators.js';
export { CsrfTokenError, type CsrfFailure } from './csrf/csrf.errors.js';
export { DEFAULT_CSRF_HEADER, DEFAULT_CSRF_FORM_FIELD, CSRF_UNSAFE_METHODS } from './csrf/csrf-token.js';

export { MemoryStore, type MemoryStoreOptions } from './stores/memory.store.js';
export { CookieStore, type CookieStoreOptions } from './stores/cookie.store.js';
export { JsonSerializer } from './serializers/json.serializer.js';
export { AesGcmEncryptor, DecryptionError } from './crypto/aes-gcm.encryptor.js';
export { FernetEncryptor, type FernetEncryptorOptions, type FernetKey } from './crypto/fernet.encryptor.js';

export {
  SessionOptionsError,
  SessionNotLoadedError,
  SessionStoreUnavailableError,
  SessionCookieTooLargeError,
  SessionSerializationError,
  InvalidKeyError,
  SessionReadOnlyError,
  SessionSocketNotBoundError,
  SessionUnavailableError,
  SessionGraphqlSetupError,
} from './errors/session.errors.js';

export type { SessionData } from './interfaces/session-data.interface.js';
export type { ExpressSessionApi, SessionObject } from './compat/express-session-api.js';
export type { SessionCookieView } from './compat/session-cookie-view.js';
export type {
  SessionModuleOptions,
  SessionCookieOptions,
  SessionOptionsFactory,
  ResolvedSessionOptions,
  SameSite,
  CookiePriority,
  StoreFailureMode,
  AutoloadPaths,
  PlatformRequest,
  LegacySessionOptions,
  SessionCsrfOptions,
} from './interfaces/session-options.interface.js';
export type {
  SessionStore,
  UpdatableSessionStore,
  SyncEncodingSessionStore,
  ClientSideSessionStore,
  MergeableSessionStore,
  SessionFieldPatch,
  LockingSessionStore,
  UserIndexedSessionStore,
  UserSessionEntry,
} from './interfaces/session-store.interface.js';
export type { Serializer } from './interfaces/serializer.interface.js';
export type { Encryptor } from './interfaces/encryptor.interface.js';
