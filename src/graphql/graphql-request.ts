import { HttpException } from '@nestjs/common';
import { SessionStoreUnavailableError } from '../errors/session.errors.js';
import { rawRequest, type AnyRequest, type AnyResponse } from '../platform/http-platform.js';
import { SessionManager } from '../session/session.manager.js';

const GRAPHQL_REQUEST = Symbol('sessionkit.graphql');

/**
 * One HTTP request carrying GraphQL operations, as the driver hook (Apollo plugin, Mercurius
 * route hooks) sees it. Nest runs the session interceptor once per resolver, and a request may
 * run many (several root fields, a batch of operations), so the session is committed here, once,
 * after the last of them and before the response is written: a failed save can still become the
 * response.
 */
export class GraphqlRequest {
  /** Operations of this request the hook saw start, and finish (a batch has several). */
  started = 0;
  finished = 0;
  /**
   * The highest status seen: of the errors resolvers threw, and of the response itself. A
   * 5xx-class one (any error but a 4xx `HttpException`) makes the request save nothing, as a 5xx
   * HTTP response does.
   */
  status = 200;
  /** `@SessionLock()`: taken by the first locked resolver, held until the commit is done. */
  lock: Promise<() => Promise<void>> | undefined;
  private outcome: Promise<Error | undefined> | undefined;
  private waiting: ((outcome: Promise<Error | undefined>) => void)[] | undefined;

  /** Records a status (a resolver's error, the response's own); the highest one decides the commit. */
  saw(status: number): void {
    if (status > this.status) this.status = status;
  }

  /**
   * Commits the session the resolvers used (if any), once however often it is asked; resolves
   * to the error that kept it from being saved (the response must report it), or undefined.
   */
  commit(req: AnyRequest, res: AnyResponse): Promise<Error | undefined> {
    if (this.outcome) return this.outcome;
    const outcome = (this.outcome = this.run(req, res));
    for (const resolve of this.waiting ?? []) resolve(outcome);
    this.waiting = undefined;
    return outcome;
  }

  /** The outcome of the commit, once some operation of the request made it. */
  committed(): Promise<Error | undefined> {
    return this.outcome ?? new Promise((resolve) => (this.waiting ??= []).push(resolve));
  }

  async releaseLock(): Promise<void> {
    const lock = this.lock;
    if (!lock) return;
    this.lock = undefined;
    const release = await lock.catch(() => undefined); // a lock never taken (409) has nothing to release
    await release?.();
  }

  private async run(req: AnyRequest, res: AnyResponse): Promise<Error | undefined> {
    // Found through the request: set by the interceptor, or by whatever loaded the session first (a guard).
    const manager = SessionManager.of(req);
    try {
      if (!manager) return undefined;
      manager.bind(req, res, false);
      await manager.commit(req, this.status);
      return undefined;
    } catch (error) {
      // Store failures are logged by the store adapter; the rest (a value the serializer refuses)
      // reaches the client as a bare "not saved", so its reason goes to the log.
      if (!(error instanceof HttpException)) manager?.runtime.logger?.error(`Session not saved: ${(error as Error)?.message ?? error}`);
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      await this.releaseLock();
    }
  }
}

/** Marks the request as one whose commit the driver hook makes (the interceptor checks for it). */
export function startGraphqlRequest(req: AnyRequest): GraphqlRequest {
  const raw = rawRequest(req) as unknown as Record<symbol, GraphqlRequest | undefined>;
  return (raw[GRAPHQL_REQUEST] ??= new GraphqlRequest());
}

export function graphqlRequestOf(req: AnyRequest): GraphqlRequest | undefined {
  return (rawRequest(req) as unknown as Record<symbol, GraphqlRequest | undefined>)[GRAPHQL_REQUEST];
}

/** The `extensions.code` of the error a response carries when the session could not be saved. */
export const SESSION_STORE_UNAVAILABLE = 'SESSION_STORE_UNAVAILABLE';
export const SESSION_NOT_SAVED = 'SESSION_NOT_SAVED';

export interface GraphqlFailure {
  readonly status: number;
  /** A GraphQL response without `data`: nothing of the operation is reported as done. */
  readonly result: { errors: { message: string; extensions: { code: string } }[] };
}

/**
 * What a response whose session could not be saved becomes: 503 with `SESSION_STORE_UNAVAILABLE`
 * when the store failed (retry later), else the error's own status (500 for a cookie-store
 * payload too large, whose message names the size) with `SESSION_NOT_SAVED`.
 */
export function graphqlFailure(error: Error): GraphqlFailure {
  if (error instanceof SessionStoreUnavailableError) {
    return { status: error.getStatus(), result: { errors: [{ message: error.message, extensions: { code: SESSION_STORE_UNAVAILABLE } }] } };
  }
  // Only our own HttpExceptions say something the client may read; anything else stays on the server.
  const status = error instanceof HttpException ? error.getStatus() : 500;
  const message = error instanceof HttpException ? error.message : 'The session could not be saved.';
  return { status, result: { errors: [{ message, extensions: { code: SESSION_NOT_SAVED } }] } };
}

/** The status a resolver's error stands for: its own if it says (HttpException, `extensions.http.status`), else 500. */
export function errorStatus(error: unknown): number {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { extensions?: { http?: { status?: unknown } } } | null)?.extensions?.http?.status;
  return typeof status === 'number' ? status : 500;
}
