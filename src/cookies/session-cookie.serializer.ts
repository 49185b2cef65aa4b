import { stringifySetCookie, type SetCookie } from './cookie-header.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';

const EPOCH = new Date(0);
const asIs = (value: string): string => value;

/** Builds the session's `Set-Cookie` values; the attributes are fixed at startup. */
export class SessionCookieSerializer {
  readonly name: string;
  private readonly attributes: Omit<SetCookie, 'name' | 'value'>;
  /** The clearing cookie never changes, so it is built once. */
  readonly clearing: string;
  /** Every attribute after `Max-Age`, as `stringifySetCookie` writes them (fixed at startup). */
  private readonly suffix: string;

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
    this.suffix = stringifySetCookie({ name: this.name, value: '', ...this.attributes }, { encode: asIs }).slice(this.name.length + 1);
  }

  /**
   * `maxAge` in whole seconds; `undefined` gives a browser-session cookie. Only the value and
   * `Max-Age` change per response; `stringifySetCookie` writes them first, so the attributes it
   * wrote once at startup are appended as they are. Values are base64url and a dot (checked by
   * the signer), which need no encoding.
   */
  serialize(value: string, maxAge: number | undefined): string {
    if (maxAge === undefined) return `${this.name}=${value}${this.suffix}`;
    if (!Number.isInteger(maxAge)) throw new TypeError(`Cookie Max-Age must be an integer, got ${maxAge}`);
    return `${this.name}=${value}; Max-Age=${maxAge}${this.suffix}`;
  }

  /** Bytes a browser counts against its per-cookie limit (name, `=` and value). */
  sizeOf(value: string): number {
    return this.name.length + 1 + value.length;
  }
}
