// `cookie` 1.x is CommonJS: Node's ESM loader finds its named exports, but not every ESM
// loader does (Jest's VM modules does not), so the named functions are taken from the default.
import cookie from 'cookie';

export type { SetCookie } from 'cookie';
export const { parseCookie, stringifySetCookie } = cookie;
