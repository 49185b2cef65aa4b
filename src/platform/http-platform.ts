/**
 * The few places where Express and Fastify differ. Everything else in the module works on the
 * request and response objects Nest hands to handlers (Express `req`/`res`, Fastify
 * `FastifyRequest`/`FastifyReply`).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type AnyRequest = any;
export type AnyResponse = any;

/** The Node request behind a platform request: the key for per-request state on both platforms. */
export function rawRequest(req: AnyRequest): IncomingMessage {
  return req.raw ?? req;
}

/**
 * Whether `req` is an HTTP request (Express, Fastify, Node, or one injected by light-my-request),
 * rather than an RPC message or a transport's context object: only the former can get a cookie back.
 */
export function isHttpRequest(req: AnyRequest): boolean {
  const raw = rawRequest(req) as unknown as { headers?: unknown; socket?: unknown } | null;
  return typeof raw === 'object' && raw !== null && typeof raw.headers === 'object' && raw.socket !== undefined;
}

/** The Node response behind a platform response. */
export function rawResponse(res: AnyResponse): ServerResponse {
  return res.raw ?? res;
}

export function requestPath(req: AnyRequest): string {
  const url: string = req.originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function responseStatus(res: AnyResponse): number {
  return rawResponse(res).statusCode;
}

export function headersSent(res: AnyResponse): boolean {
  return rawResponse(res).headersSent;
}

export interface SessionHeaders {
  /** One value, or several (the session cookie and the clearing of a migrated legacy cookie). */
  setCookie: string | string[];
}

const CACHE_CONTROL = 'private, no-store';

/** A `Vary` value that includes `Cookie` (unchanged when it already does, or is `*`). */
export function withCookieVary(current: unknown): string {
  const value = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current);
  if (value === '') return 'Cookie';
  if (value.trim() === '*' || /(^|,)\s*cookie\s*(,|$)/i.test(value)) return value;
  return `${value}, Cookie`;
}

/**
 * Adds the session cookie without replacing cookies the handler set, plus `Vary: Cookie` and a
 * `Cache-Control` that keeps shared caches from storing a response that carries a session.
 */
export function appendSessionHeaders(res: AnyResponse, headers: SessionHeaders): void {
  if (res.raw) {
    // Fastify: reply.header() appends set-cookie values and the reply passes them to writeHead(),
    // where they would replace cookies middleware set on the raw response: carry those over first.
    // (reply.getHeader() falls back to the raw response's value: the same object means the
    // reply has none of its own.)
    const fromMiddleware = res.raw.getHeader('set-cookie');
    if (fromMiddleware !== undefined && res.getHeader('set-cookie') === fromMiddleware) res.header('set-cookie', fromMiddleware);
    res.header('set-cookie', headers.setCookie);
    res.header('vary', withCookieVary(res.getHeader('vary')));
    if (res.getHeader('cache-control') === undefined) res.header('cache-control', CACHE_CONTROL);
    return;
  }
  setOnNodeResponse(rawResponse(res), headers);
}

function setOnNodeResponse(raw: ServerResponse, headers: SessionHeaders): void {
  raw.appendHeader('Set-Cookie', headers.setCookie);
  raw.setHeader('Vary', withCookieVary(raw.getHeader('Vary')));
  if (!raw.hasHeader('Cache-Control')) raw.setHeader('Cache-Control', CACHE_CONTROL);
}

/**
 * Runs `beforeFlush` synchronously just before the response head is written, for handlers that
 * answer by themselves (`@Res()`, `@Sse()`) or errors that skip the interceptor.
 */
export function onHeadersFlush(res: AnyResponse, beforeFlush: (status: number) => SessionHeaders | undefined): void {
  const raw = rawResponse(res) as ServerResponse & { writeHead: (...args: any[]) => ServerResponse };
  const writeHead = raw.writeHead;
  raw.writeHead = function writeHeadWithSession(this: ServerResponse, ...args: any[]) {
    raw.writeHead = writeHead;
    // writeHead(status, …) sets statusCode only after this point.
    const headers = beforeFlush(typeof args[0] === 'number' ? args[0] : raw.statusCode);
    if (headers) {
      const head = args.find((arg, index) => index > 0 && typeof arg === 'object' && arg !== null && !Array.isArray(arg));
      setOnNodeResponse(raw, headers);
      // Headers passed to writeHead() replace same-named headers set before; carry ours into them.
      if (head) mergeIntoHeadObject(raw, head);
    }
    return writeHead.apply(this, args);
  };
}

function mergeIntoHeadObject(raw: ServerResponse, head: Record<string, unknown>): void {
  for (const name of ['set-cookie', 'vary', 'cache-control']) {
    const key = Object.keys(head).find((k) => k.toLowerCase() === name);
    if (key === undefined) continue;
    const ours = raw.getHeader(name);
    if (name === 'set-cookie') {
      const session = ([] as unknown[]).concat(ours ?? []).at(-1);
      head[key] = [...([] as unknown[]).concat(head[key]), session];
    } else if (name === 'vary') {
      head[key] = withCookieVary(head[key]);
    }
    // A Cache-Control the handler passed to writeHead() is its own choice: kept as is.
  }
}
