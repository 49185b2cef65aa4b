/**
 * Properties of CSRF protection over the real HTTP app (fast-check), on Express and Fastify:
 *
 *   - random tokens — any string, well-shaped random base64url, a real token with one character
 *     changed — sent in the header or the form field are refused with 403 (never 2xx, never 5xx)
 *     and change nothing in the store;
 *   - over any sequence of page loads, logins, logouts, other sessions' page loads and posts,
 *     a post is accepted exactly when its token was issued to the client's current session
 *     since its last login or logout: tokens of another session, tokens from before a login
 *     (a fresh one is required after it), and tokens or cookies replayed after a logout are all
 *     refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { CountingStore } from '../../support/counting-store.js';
import { PLATFORMS, http, setCookies, startApp, type Platform } from '../../support/session-app.js';
import { Client, csrfAppModule } from './csrf-fixtures.js';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...B64URL), minLength: min, maxLength: max });
/** Printable ASCII: what a client can put in a header value without Node refusing to send it. */
const headerText = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 120 });

type Action =
  | { kind: 'page' }
  | { kind: 'otherPage' }
  | { kind: 'post'; pick: number; via: 'header' | 'form' }
  | { kind: 'postWithOldCookie'; pick: number; cookiePick: number }
  | { kind: 'login' }
  | { kind: 'logout' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Action>({ kind: 'page' }) },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'otherPage' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('post' as const), pick: fc.nat(), via: fc.constantFrom('header' as const, 'form' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('postWithOldCookie' as const), pick: fc.nat(), cookiePick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'login' }) },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'logout' }) },
);

interface IssuedToken {
  readonly token: string;
  readonly owner: 'me' | 'other';
  /** The client's session epoch when issued: login and logout start a new one. */
  readonly epoch: number;
}

describe.each(PLATFORMS)('CSRF properties (%s)', (platform: Platform) => {
  let app: INestApplication;
  const store = new CountingStore();

  beforeAll(async () => {
    app = await startApp(csrfAppModule({ store }), platform);
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses random and tampered tokens, in the header or the form field, with 403 and no store change', async () => {
    const client = new Client(app);
    const real = await client.token();
    const tampered = fc
      .tuple(fc.nat({ max: real.length - 1 }), fc.constantFrom(...B64URL))
      .filter(([at, char]) => real[at] !== char)
      .map(([at, char]) => real.slice(0, at) + char + real.slice(at + 1));
    const token = fc.oneof(headerText, b64(86, 86), b64(1, 200), tampered);
    await fc.assert(
      fc.asyncProperty(token, fc.constantFrom('header', 'form'), fc.boolean(), async (bad, via, withCookie) => {
        store.reset();
        const cookie = withCookie ? client.cookie : undefined;
        const res = via === 'header' ? await client.post('/submit', bad, {}, cookie) : await client.form('/submit', { _csrf: bad }, cookie);
        expect(res.status).toBe(403);
        expect(setCookies(res)).toEqual([]);
        expect(store.calls.write + store.calls.update + store.calls.touch + store.calls.remove).toBe(0);
      }),
      { numRuns: 150 },
    );
    // The real one still works: nothing above disturbed the session.
    expect((await client.post('/submit', real)).status).toBe(200);
  });

  it('accepts a post exactly when its token belongs to the current session since the last login or logout', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 14 }), async (actions) => {
        const me = new Client(app);
        const other = new Client(app);
        const issued: IssuedToken[] = [];
        /** Cookies the client held in earlier epochs (what an attacker might have kept). */
        const oldCookies: string[] = [];
        let epoch = 0;
        const newEpoch = (before: string | undefined) => {
          if (before) oldCookies.push(before);
          epoch++;
        };
        const fresh = async () => {
          const token = await me.token();
          issued.push({ token, owner: 'me', epoch });
          return token;
        };

        for (const step of actions) {
          switch (step.kind) {
            case 'page':
              await fresh();
              break;
            case 'otherPage':
              issued.push({ token: await other.token(), owner: 'other', epoch: -1 });
              break;
            case 'post': {
              if (issued.length === 0) break;
              const pick = issued[step.pick % issued.length]!;
              const res = step.via === 'header' ? await me.post('/submit', pick.token) : await me.form('/submit', { _csrf: pick.token });
              const valid = pick.owner === 'me' && pick.epoch === epoch;
              expect({ status: res.status, step, pick }).toEqual({ status: valid ? 200 : 403, step, pick });
              break;
            }
            case 'postWithOldCookie': {
              if (issued.length === 0 || oldCookies.length === 0) break;
              const pick = issued[step.pick % issued.length]!;
              const cookie = oldCookies[step.cookiePick % oldCookies.length]!;
              const res = await http(app).post('/submit').set('Cookie', cookie).set('x-csrf-token', pick.token).send({});
              // A cookie of an earlier epoch names a record that a login or logout removed.
              expect({ status: res.status, step, pick }).toEqual({ status: 403, step, pick });
              expect(setCookies(res)).toEqual([]);
              break;
            }
            case 'login': {
              const before = me.cookie;
              const res = await me.post('/login', await fresh(), { user: 'ada' });
              expect(res.status).toBe(200);
              newEpoch(before);
              break;
            }
            case 'logout': {
              const before = me.cookie;
              const res = await me.post('/logout', await fresh());
              expect(res.status).toBe(204);
              expect(me.cookie).toBeUndefined();
              newEpoch(before);
              break;
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
