import { SessionCookieTooLargeError } from '../errors/session.errors.js';
import type { ResolvedSessionOptions } from '../interfaces/session-options.interface.js';
import type { AnyRequest } from '../platform/http-platform.js';
import { CookieSigner } from './cookie.signer.js';
import { requestCookie } from './cookie-header.js';
import { SessionCookieSerializer } from './session-cookie.serializer.js';

/** What a commit does with the session cookie. */
export type CookieDecision =
  | { readonly kind: 'keep' }
  | { readonly kind: 'clear' }
  /** `value`: the ID (or, for a client-side store, the encoded record), signed when sent. */
  | { readonly kind: 'set'; readonly value: string; readonly maxAge: number | undefined };

export const KEEP_COOKIE: CookieDecision = Object.freeze({ kind: 'keep' });
export const CLEAR_COOKIE: CookieDecision = Object.freeze({ kind: 'clear' });

/** A verified cookie: the ID it carries and which secret signed it (> 0: re-issue under the first). */
export interface VerifiedCookie {
  readonly id: string;
  readonly secretIndex: number;
}

/**
 * The session cookie both ways: read from a request (parse, verify the signature), and turned
 * into a `Set-Cookie` value (sign, check the size, serialize).
 */
export class SessionCookie {
  readonly name: string;
  private readonly signer: CookieSigner;
  private readonly serializer: SessionCookieSerializer;

  constructor(
    options: ResolvedSessionOptions,
    private readonly maxSize: number,
    private readonly onRejected: (reason: string) => void,
  ) {
    this.serializer = new SessionCookieSerializer(options.cookie);
    this.name = this.serializer.name;
    this.signer = new CookieSigner(options.secret, maxSize);
  }

  /** The verified cookie of a request, if any; `report` logs why a present cookie was refused. */
  read(req: AnyRequest, report: boolean): VerifiedCookie | undefined {
    const value = requestCookie(req, this.name);
    if (value === undefined) return undefined;
    const verified = this.signer.verify(value);
    if (verified.ok) return verified;
    if (report) this.onRejected(verified.reason);
    return undefined;
  }

  /**
   * The `Set-Cookie` value for a decision (`undefined` to send none). Throws, before anything is
   * sent, when the signed cookie would exceed what browsers keep.
   */
  header(decision: CookieDecision): string | undefined {
    if (decision.kind === 'keep') return undefined;
    if (decision.kind === 'clear') return this.serializer.clearing;
    const signed = this.signer.sign(decision.value);
    const size = this.serializer.sizeOf(signed);
    if (size > this.maxSize) throw new SessionCookieTooLargeError(size, this.maxSize);
    return this.serializer.serialize(signed, decision.maxAge);
  }
}
