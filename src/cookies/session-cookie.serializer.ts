import { stringifySetCookie, type SetCookie } from 'cookie';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';

const EPOCH = new Date(0);
const asIs = (value: string): string => value;

/** Builds the session's `Set-Cookie` values; the attributes are fixed at startup. */
export class SessionCookieSerializer {
  readonly name: string;
  private readonly attributes: Omit<SetCookie, 'name' | 'value'>;
  /** The clearing cookie never changes, so it is built once. */
  readonly clearing: string;

  constructor(cookie: ResolvedSessionOptions['cookie']) {
    this.name = cookie.name;
    this.attributes = {
      path: cookie.path,
      domain: cookie.domain,
      httpOnly: cookie.httpOnly,
      secure: cookie.secure,
      sameSite: cookie.sameSite,
      partitioned: cookie.partitioned,
      priority: cookie.priority,
    };
    // Same name and every attribute of the cookie it clears, or browsers keep the original.
    this.clearing = stringifySetCookie({ name: this.name, value: '', ...this.attributes, maxAge: 0, expires: EPOCH });
  }

  /** `maxAge` in whole seconds; `undefined` gives a browser-session cookie. */
  serialize(value: string, maxAge: number | undefined): string {
    return stringifySetCookie({ name: this.name, value, ...this.attributes, maxAge }, { encode: asIs });
  }

  /** Bytes a browser counts against its per-cookie limit (name, `=` and value). */
  sizeOf(value: string): number {
    return this.name.length + 1 + value.length;
  }
}
