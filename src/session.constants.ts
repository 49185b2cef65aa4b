/** Injection token of the validated options, every default applied (`ResolvedSessionOptions`). */
export const SESSION_OPTIONS = '@sessionkit/nest:SESSION_OPTIONS';
/** Injection token of the store instance the module uses. */
export const SESSION_STORE = '@sessionkit/nest:SESSION_STORE';

/** Reflector metadata keys. */
export const SESSION_AUTOLOAD_METADATA = '@sessionkit/nest:autoload';
export const SESSION_REGENERATE_METADATA = '@sessionkit/nest:regenerate';

export const DEFAULT_LIFETIME = 1_209_600;
export const DEFAULT_FALLBACK_TTL = 2_592_000;
export const DEFAULT_COOKIE_NAME = 'sid';
export const MIN_SECRET_LENGTH = 32;
/** Browsers drop cookies whose name and value exceed this many bytes. */
export const MAX_COOKIE_SIZE = 4096;
export const SESSION_LOCK_METADATA = '@sessionkit/nest:lock';
export const SESSION_EVENT_METADATA = '@sessionkit/nest:event';
