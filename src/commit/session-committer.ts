import type { CookieDecision } from '../cookies/session-cookie.js';
import { appendSessionHeaders, type SessionHeaders } from '../platform/http-platform.js';
import type { RequestSession } from '../session/request-session.js';
import type { SessionRuntime } from '../session/session-runtime.js';
import { CommitPlanner, isNothing, type CommitPlan } from './commit-plan.js';
import { runCommit } from './commit-runner.js';

/** A commit that had nothing to do: marks the session committed without a pending promise. */
const COMMITTED: Promise<void> = Promise.resolve();

/**
 * The three moments a session is committed, each a short caller of one plan and one runner:
 * after the handler (the usual case: the response waits for the store), when the response head
 * is flushed first (`@Res()`, `@Sse()`, an error before the interceptor: the cookie is decided
 * synchronously, the store work follows), and after such a flush (a change made while a stream
 * runs: saved when it needs no new cookie).
 */
export class SessionCommitter {
  private readonly planner: CommitPlanner;

  constructor(private readonly runtime: SessionRuntime) {
    this.planner = new CommitPlanner(runtime.records.codec, runtime.expiry, runtime.store, runtime.options.rolling);
  }

  /**
   * After the handler. Returns `undefined` when there is nothing to wait for, so the response is
   * not held back by a promise that does nothing; a second call only awaits the first.
   */
  afterHandler(session: RequestSession, status: number): Promise<void> | undefined {
    if (session.flushed) return this.afterFlush(session, status);
    if (session.committing) return session.committing === COMMITTED ? undefined : session.committing;
    let work: Promise<void> | undefined;
    try {
      work = this.commit(session, status);
    } catch (error) {
      work = Promise.reject(error);
    }
    session.phase = 'committed';
    session.committing = work ?? COMMITTED;
    return work;
  }

  /**
   * The head is being written before the commit ran. Decides the cookie now, synchronously; the
   * store work follows right after and its failures can only be logged.
   */
  atFlush(session: RequestSession, status: number): SessionHeaders | undefined {
    if (session.committing || session.skipped || !session.loaded) return undefined;
    session.phase = 'committed';
    if (status >= 500) {
      session.committing = COMMITTED;
      return undefined;
    }
    session.flushed = true;
    let plan: CommitPlan;
    let setCookie: string | string[] | undefined;
    try {
      plan = this.planner.prepare(session, status, Date.now());
      setCookie = this.headers(plan, plan.cookie, undefined);
    } catch (error) {
      session.committing = COMMITTED;
      this.runtime.logger?.error(`Session not saved: ${(error as Error).message}`);
      return undefined;
    }
    session.committing = this.run(plan).then(
      (cookie) => {
        this.report(session, plan, cookie);
        this.rebase(session, plan, cookie);
      },
      () => undefined, // logged by the store adapter
    );
    session.legacyCookieStale = false;
    return setCookie === undefined ? undefined : { setCookie };
  }

  /**
   * After a flush-time commit (an `@Sse()` handler that changes the session once the stream
   * runs, say). Changes to an existing record are still saved (its cookie stays valid); what
   * would need a new cookie cannot be, and is reported.
   */
  async afterFlush(session: RequestSession, status: number): Promise<void> {
    await session.committing;
    if (session.anonymous) return;
    let plan: CommitPlan;
    try {
      plan = this.planner.prepare(session, status, Date.now());
    } catch (error) {
      this.runtime.logger?.error(`Session not saved: ${(error as Error).message}`);
      return;
    }
    const needsCookie = plan.write?.mode === 'create' || (this.runtime.store.clientSide && plan.write !== undefined) || plan.cookie.kind === 'clear';
    if (needsCookie) {
      this.runtime.logger?.warn(
        'Session changed after the response head was sent; the change needs a new cookie and was not saved. ' +
          'Change the session before sending the response.',
      );
      return;
    }
    if (!plan.write && plan.removals.length === 0) return;
    try {
      const cookie = await this.run({ ...plan, touch: undefined });
      this.rebase(session, plan, cookie);
    } catch {
      // Logged by the store adapter; the status is already sent.
    }
  }

  /**
   * An early save asked for by the handler or a library (express-session's `save()`, which
   * Passport calls before it answers). The response's own commit still sends the cookie the
   * save decided, and saves whatever changes after it.
   */
  async saveNow(session: RequestSession): Promise<void> {
    if (session.committing) return this.afterFlush(session, 200);
    const plan = this.planner.prepare(session, 200, Date.now());
    if (isNothing(plan)) return;
    // The size check comes before any store work, as for any commit.
    this.runtime.cookie.header(plan.cookie);
    const cookie = await this.run(plan);
    this.report(session, plan, cookie);
    this.rebase(session, plan, cookie);
    // The client has not seen this cookie yet: the response's commit sends (or clears) it.
    if (cookie.kind === 'set') session.reissue = true;
    if (cookie.kind === 'clear') session.clientCookieStale = true;
  }

  /** Throws (before anything is stored or sent) when the session cannot be encoded or is too large. */
  private commit(session: RequestSession, status: number): Promise<void> | undefined {
    const plan = this.planner.prepare(session, status, Date.now());
    // A read-only request with a fixed expiry: no store call, no cookie.
    if (isNothing(plan)) return undefined;
    // The header (and the cookie size check) comes before any store work, so an oversized
    // cookie-store payload fails without side effects.
    const planned = this.runtime.cookie.header(plan.cookie);
    return this.run(plan).then((cookie) => {
      const res = session.response;
      const setCookie = this.headers(plan, cookie, sameCookie(cookie, plan.cookie) ? planned : undefined);
      if (setCookie !== undefined && res) appendSessionHeaders(res, { setCookie });
      session.legacyCookieStale = false;
      this.report(session, plan, cookie);
    });
  }

  private run(plan: CommitPlan): Promise<CookieDecision> {
    return runCommit(plan, this.runtime.store, this.runtime.users, this.runtime.legacy);
  }

  /** The `Set-Cookie` value(s) a response carries: the session cookie's, and the clearing of a migrated express-session cookie. */
  private headers(plan: CommitPlan, cookie: CookieDecision, computed: string | undefined): string | string[] | undefined {
    const session = computed ?? this.runtime.cookie.header(cookie);
    if (!plan.clearLegacyCookie || !this.runtime.legacy) return session;
    const legacy = this.runtime.legacy.clearingCookie;
    return session === undefined ? legacy : [session, legacy];
  }

  /** Logs and emits what the commit did: a created or regenerated session once it is written. */
  private report(session: RequestSession, plan: CommitPlan, cookie: CookieDecision): void {
    for (const type of plan.events) {
      if (type === 'destroyed') this.runtime.events.report(type, plan.removals[0]?.id, plan.removals[0]?.userId);
      else if (plan.write && cookie.kind === 'set') this.runtime.events.report(type, cookie.value, session.userId);
    }
  }

  /** After a flush-time commit, the session describes what is now stored and in the cookie. */
  private rebase(session: RequestSession, plan: CommitPlan, cookie: CookieDecision): void {
    if (plan.write) session.recordId = session.id = cookie.kind === 'set' ? cookie.value : undefined;
    else if (plan.snapshot === undefined) session.recordId = session.id = undefined;
    session.snapshot = plan.snapshot;
    session.previous = undefined;
    session.removals.length = 0;
    session.flashIn = {};
    session.clientCookieStale = session.regenerated = session.destroyed = session.reissue = false;
    session.legacyId = undefined;
  }
}

function sameCookie(a: CookieDecision, b: CookieDecision): boolean {
  return a.kind === b.kind && (a.kind !== 'set' || (b.kind === 'set' && a.value === b.value && a.maxAge === b.maxAge));
}
