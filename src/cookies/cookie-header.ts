// `cookie` 1.x is CommonJS: Node's ESM loader finds its named exports, but not every ESM
// loader does (Jest's VM modules does not), so the named functions are taken from the default.
import cookie from 'cookie';

export type { SetCookie } from 'cookie';
export const { parseCookie, stringifySetCookie } = cookie;

/** The raw (undecoded) value of cookie `name` in a request's `Cookie` header, if present. */
export function requestCookie(req: { headers?: { cookie?: string } }, name: string): string | undefined {
  const header = req.headers?.cookie;
  // Cheap pre-check: most requests carry other cookies only, and are not parsed at all.
  if (!header || !header.includes(name)) return undefined;
  return parseCookie(header, { decode: (raw) => raw })[name];
}
