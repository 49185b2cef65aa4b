/**
 * One handler body for both platforms. A fixture controller that answers through `@Res()` wraps
 * the response Nest hands it (an Express `Response` or a Fastify `FastifyReply`) in
 * `platformResponse(res)` and makes the Express-style call; on Fastify the equivalent reply call
 * is made instead:
 *
 * | here                 | Express                    | Fastify                                          |
 * |----------------------|----------------------------|--------------------------------------------------|
 * | `status(code)`       | `res.status(code)`         | `reply.code(code)`                               |
 * | `setHeader(n, v)`    | `res.setHeader(n, v)`      | `reply.header(n, v)`                             |
 * | `cookie(n, v)`       | `res.cookie(n, v)`         | `reply.header('set-cookie', 'n=v; Path=/')`      |
 * | `json(body)`         | `res.json(body)`           | `reply.send(body)`                               |
 * | `type(t).send(text)` | `res.type(t).send(text)`   | `reply.type(t).send(text)`                       |
 * | `redirect(url)`      | `res.redirect(url)` (302)  | `reply.redirect(url, 302)`                       |
 * | `raw`                | `res` (it is the Node one) | `reply.raw` (for `write`, `writeHead`, `end`)    |
 * | `rawCookie(n, v)`    | `res.cookie(n, v)`         | `reply.raw.appendHeader('set-cookie', 'n=v; …')` |
 *
 * `rawCookie` is for handlers that then write the head themselves through `raw`: on Fastify,
 * headers given to `reply.header()` only reach the wire through `reply.send()`.
 */
import type { ServerResponse } from 'node:http';
import type { Platform } from './session-app.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface PlatformResponse {
  readonly platform: Platform;
  /** The Node.js response: Express's `res` itself, Fastify's `reply.raw`. */
  readonly raw: ServerResponse;
  status(code: number): PlatformResponse;
  setHeader(name: string, value: string | string[]): PlatformResponse;
  /** A cookie the way `res.cookie(name, value)` writes it (`Path=/`), appended. */
  cookie(name: string, value: string): PlatformResponse;
  /** Like `cookie`, on the Node response, for a handler that writes the head through `raw`. */
  rawCookie(name: string, value: string): PlatformResponse;
  type(contentType: string): PlatformResponse;
  json(body: unknown): void;
  send(body: string | Buffer): void;
  redirect(url: string): void;
}

/** Whether `res` is a Fastify reply (it wraps the Node response as `.raw`). */
export function isFastifyReply(res: unknown): boolean {
  return typeof res === 'object' && res !== null && 'raw' in res && typeof (res as any).code === 'function';
}

const cookieLine = (name: string, value: string) => `${name}=${value}; Path=/`;

export function platformResponse(res: unknown): PlatformResponse {
  return isFastifyReply(res) ? fastify(res as any) : express(res as any);
}

function express(res: any): PlatformResponse {
  const self: PlatformResponse = {
    platform: 'express',
    raw: res,
    status: (code) => (res.status(code), self),
    setHeader: (name, value) => (res.setHeader(name, value), self),
    cookie: (name, value) => (res.cookie(name, value), self),
    rawCookie: (name, value) => (res.cookie(name, value), self),
    type: (contentType) => (res.type(contentType), self),
    json: (body) => void res.json(body),
    send: (body) => void res.send(body),
    redirect: (url) => void res.redirect(url),
  };
  return self;
}

function fastify(reply: any): PlatformResponse {
  const self: PlatformResponse = {
    platform: 'fastify',
    raw: reply.raw,
    status: (code) => (reply.code(code), self),
    setHeader: (name, value) => (reply.header(name, value), self),
    cookie: (name, value) => (reply.header('set-cookie', cookieLine(name, value)), self),
    rawCookie: (name, value) => (reply.raw.appendHeader('set-cookie', cookieLine(name, value)), self),
    type: (contentType) => (reply.type(contentType), self),
    json: (body) => void reply.send(body),
    send: (body) => void reply.send(body),
    // Explicit 302: Nest has already set the route's status (200) on the reply, which
    // reply.redirect(url) would otherwise keep.
    redirect: (url) => void reply.redirect(url, 302),
  };
  return self;
}
