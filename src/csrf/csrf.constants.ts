/** Reflector metadata key of `@SkipCsrf()` (true) and `@CsrfProtected()` (false). */
export const CSRF_SKIP_METADATA = '@sessionkit/nest:csrf-skip';
