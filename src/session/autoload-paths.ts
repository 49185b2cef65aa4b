import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';

/** The default (`autoload: false`): no path to compute per request. */
export const NEVER = (): boolean => false;

/** Compiles the `autoload` option into a test on request paths (without the query string). */
export function compileAutoload(autoload: ResolvedSessionOptions['autoload']): (path: string) => boolean {
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
