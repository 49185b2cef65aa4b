// Load generation (autocannon, programmatic) and the per-variant session cookies it sends.
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

export const ROUTES = {
  // The request carries a valid session cookie; the handler ignores the session.
  noop: { method: 'GET', path: '/noop', cookies: 'read' },
  // Reads `n` of an existing session.
  read: { method: 'GET', path: '/read', cookies: 'read' },
  // Increments `n` of an existing session.
  write: { method: 'POST', path: '/write', cookies: 'write' },
  // No cookie: every request creates (and stores) a new session.
  new: { method: 'POST', path: '/new', cookies: null },
};

/** `name=value` of the session cookie a response set. */
function sessionCookieOf(response) {
  const header = response.headers.getSetCookie?.() ?? [];
  const cookie = header.find((c) => c.startsWith('sid='));
  return cookie ? cookie.slice(0, cookie.indexOf(';')) : undefined;
}

/**
 * Creates `count` sessions through the variant's own POST /new (the same path real users take)
 * and returns their cookies. The bare app sets none: it gets cookies of the same shape and size
 * as ours (`sid=<32-char ID>.<43-char HMAC>`), which it ignores.
 */
export async function seedCookies(server, count) {
  if (server.variant.startsWith('bare')) {
    return Array.from({ length: count }, () => `sid=${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`);
  }
  const cookies = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${server.url}/new`, { method: 'POST' });
    await response.arrayBuffer();
    const cookie = sessionCookieOf(response);
    if (response.status !== 201 || !cookie) throw new Error(`${server.variant}: POST /new gave ${response.status} without a session cookie`);
    cookies.push(cookie);
  }
  return cookies;
}

/** Checks that a seeded cookie really loads its session and that /noop sets no cookie. */
export async function checkSeeded(server, cookie) {
  const read = await fetch(`${server.url}/read`, { headers: { cookie } });
  const body = await read.json();
  if (read.status !== 200 || body.n !== 0) {
    throw new Error(`${server.variant}: GET /read with a seeded cookie gave ${read.status} ${JSON.stringify(body)}`);
  }
  const noop = await fetch(`${server.url}/noop`, { headers: { cookie } });
  await noop.arrayBuffer();
  if (noop.status !== 200 || sessionCookieOf(noop)) {
    throw new Error(`${server.variant}: GET /noop gave ${noop.status}${sessionCookieOf(noop) ? ' with a session cookie' : ''}`);
  }
}

/**
 * One autocannon run. Each connection sends one of `cookies` (connection i gets cookie i), so
 * 50 connections are 50 users with sessions of their own; the headers are fixed per connection,
 * which keeps the load generator's own cost out of the comparison.
 */
export function runLoad({ url, route, cookies, connections, duration, amount }) {
  return new Promise((resolve, reject) => {
    let next = 0;
    const options = {
      url: `${url}${route.path}`,
      method: route.method,
      connections,
      ...(amount ? { amount } : { duration }),
    };
    if (cookies) options.setupClient = (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] });
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}
