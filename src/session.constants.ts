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

/**
 * Nest's own metadata keys (exported only from `@nestjs/common/internal`), read to tell which
 * routes answer by themselves. A unit test checks they still match Nest's.
 */
export const NEST_ROUTE_ARGS_METADATA = '__routeArguments__';
export const NEST_RESPONSE_PASSTHROUGH_METADATA = '__responsePassthrough__';
export const NEST_SSE_METADATA = '__sse__';
