/**
 * Reading a GraphQL context object (what `context.getArgByIndex(2)` holds in a resolver) without
 * importing any GraphQL package: the module must load in apps that have none.
 *
 * The shapes, as the drivers build them:
 * - Apollo on Express: `{ req, res? }` (Nest's default context is `{ req }`; Express sets `req.res`).
 * - Mercurius on Fastify: `{ req, reply, app, pubsub }` (Nest adds `req`; `reply.request` too).
 * - Apollo subscriptions (graphql-ws): Nest's default context is `{ req: <graphql-ws context> }`,
 *   whose `extra.request` is the WebSocket upgrade request.
 * - Mercurius subscriptions: `{ app, pubsub, request, reply: { request } }`, `request` being the
 *   upgrade request (the `reply` is a stand-in, with no raw response).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { AnyRequest, AnyResponse } from '../platform/http-platform.js';

export type GraphqlTransport =
  /** A query or mutation over HTTP: its response can still carry a cookie. */
  | { readonly kind: 'http'; readonly req: AnyRequest; readonly res: AnyResponse | undefined }
  /** An operation over a WebSocket: only the handshake's cookie, read-only. */
  | { readonly kind: 'socket'; readonly handshake: { headers: Record<string, string | string[] | undefined> } };

/** What a GraphQL context carries: an HTTP request and its response, or a socket's handshake. */
export function graphqlTransport(context: unknown): GraphqlTransport | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const ctx = context as Record<string, any>;
  // Mercurius over HTTP: the context carries the Fastify reply (over a WebSocket, Mercurius puts
  // a stand-in `{ request }` there, without the raw response).
  const reply = ctx.reply;
  if (reply?.raw && reply.request?.headers) return { kind: 'http', req: ctx.req?.headers ? ctx.req : reply.request, res: reply };
  // graphql-ws (Apollo's subscriptions), whether the app's context kept its context whole or under `req`.
  const upgrade = ctx.extra?.request ?? ctx.req?.extra?.request;
  if (upgrade?.headers) return { kind: 'socket', handshake: upgrade };
  // Mercurius over WebSocket: the upgrade request, and no real reply.
  if (ctx.request?.headers && ctx.pubsub !== undefined && ctx.req === undefined) return { kind: 'socket', handshake: ctx.request };
  const req = ctx.req ?? ctx.request;
  if (req?.headers) return { kind: 'http', req, res: ctx.res ?? req.res };
  return undefined;
}

/**
 * The platform request behind what a caller has in hand: the request itself (Express, Fastify,
 * Node), a GraphQL context (`@Context()`), or a Fastify reply (`reply.request`). Lets
 * `SessionService` take any of them.
 */
export function requestOf(input: AnyRequest): AnyRequest {
  // (A Fastify reply has a `headers()` method; requests have a `headers` object.)
  if (typeof input !== 'object' || input === null || typeof input.headers === 'object') return input;
  return input.req ?? input.request ?? input.reply?.request ?? input;
}
