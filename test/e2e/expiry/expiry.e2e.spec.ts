import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, type SessionData, type SessionStore } from '../../../src/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, sleep, startApp, type Platform } from '../../support/session-app.js';

@Controller()
class ExpiryController {
  @Get('write') write(@Session() session: SessionData) {
    session.n = ((session.n as number) ?? 0) + 1;
    return { n: session.n };
  }
  @Get('read') read(@Session() session: SessionData) {
    return { n: session.n ?? null };
  }
}

/** A store that keeps records forever: expiry must come from the module, not the store. */
class ForgetfulTtlStore implements SessionStore {
  readonly records = new Map<string, Uint8Array>();
  readonly ttls: number[] = [];
  async read(id: string) { return this.records.get(id) ?? null; }
  async write(id: string, data: Uint8Array, _lifetime: number, ttl: number) {
    this.ttls.push(ttl);
    this.records.set(id, data);
    return id;
  }
  async remove(id: string) { this.records.delete(id); }
}

/** Like ForgetfulTtlStore, with a `touch` that ignores the TTL (or a SQL store that prunes late). */
class IgnoredTouchStore extends ForgetfulTtlStore {
  touches = 0;
  async touch(id: string, _ttl: number) {
    this.touches++;
    return this.records.has(id);
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

type BootOptions = Omit<Parameters<typeof SessionModule.forRoot>[0], 'secret'>;

async function bootOn(platform: Platform, options: BootOptions) {
  @Module({ imports: [SessionModule.forRoot({ secret: SECRET, logger: false, cookie: { secure: false }, ...options })], controllers: [ExpiryController] })
  class FixtureModule {}
  app = await startApp(FixtureModule, platform);
  return app;
}

const maxAgeOf = (res: { headers: Record<string, unknown> }) => {
  const match = /Max-Age=(\d+)/.exec(setCookies(res)[0] ?? '');
  return match ? Number(match[1]) : undefined;
};

describe.each(PLATFORMS)('expiry enforced on the server (%s)', (platform) => {
  const boot = (options: BootOptions) => bootOn(platform, options);

  it('rolling: the idle deadline is enforced on the server even when the store has a touch that ignores TTLs', async () => {
    const store = new IgnoredTouchStore();
    const target = await boot({ lifetime: 1, rolling: true, store });
    const cookie = sessionCookie(await http(target).get('/write').expect(200, { n: 1 }))!;
    // Active: each read within the idle window keeps it alive (touched, or its stamp rewritten).
    for (let i = 0; i < 4; i++) {
      await sleep(300);
      await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
    }
    // Idle longer than the lifetime: gone, although the store still holds the record.
    await sleep(2500);
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: null });
  });

  it('rolling on a touch store: the TTL and Max-Age of a touch count from the stored stamp, never past the idle deadline', async () => {
    const store = new IgnoredTouchStore();
    const ttls: number[] = [];
    store.touch = async (id: string, ttl: number) => {
      ttls.push(ttl);
      return store.records.has(id);
    };
    const target = await boot({ lifetime: 20, rolling: true, store });
    const cookie = sessionCookie(await http(target).get('/write').expect(200, { n: 1 }))!;
    await sleep(400);
    const res = await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
    // 20 s lifetime: the stamp is refreshed only once older than 1 s, so this read was a touch.
    expect(ttls).toHaveLength(1);
    expect(ttls[0]).toBeLessThanOrEqual(19.7);
    expect(ttls[0]).toBeGreaterThan(19);
    expect(maxAgeOf(res)).toBe(20);
  });

  it('fixed lifetime: ends lifetime after creation even if the client replays the cookie and the store keeps it', async () => {
    const store = new ForgetfulTtlStore();
    const target = await boot({ lifetime: 1, store });
    const cookie = sessionCookie(await http(target).get('/write').expect(200, { n: 1 }))!;
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
    await sleep(1100);
    const res = await http(target).get('/write').set('Cookie', cookie).expect(200, { n: 1 });
    // A fresh ID, and the expired record is gone.
    expect(idOf(sessionCookie(res))).not.toBe(idOf(cookie));
    expect(store.records.has(idOf(cookie)!)).toBe(false);
  });

  it('fixed lifetime: a read-only request sends no cookie; a write re-sends Max-Age = what is left (rounded up, never 0)', async () => {
    const target = await boot({ lifetime: 2 });
    const first = await http(target).get('/write').expect(200);
    expect(maxAgeOf(first)).toBe(2);
    const cookie = sessionCookie(first)!;
    const read = await http(target).get('/read').set('Cookie', cookie).expect(200);
    expect(read.headers['set-cookie']).toBeUndefined();
    await sleep(1200);
    const second = await http(target).get('/write').set('Cookie', cookie).expect(200, { n: 2 });
    expect(maxAgeOf(second)).toBe(1);
  });

  it('lifetime 1 never gives Max-Age=0 (starsessions did)', async () => {
    const target = await boot({ lifetime: 1 });
    expect(maxAgeOf(await http(target).get('/write').expect(200))).toBe(1);
  });

  it('rolling: idle deadline from the last request; every loading response re-sends the cookie; enforced with a TTL-ignoring store', async () => {
    const store = new ForgetfulTtlStore();
    const target = await boot({ lifetime: 1, rolling: true, store });
    const cookie = sessionCookie(await http(target).get('/write').expect(200))!;
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      const res = await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
      expect(maxAgeOf(res)).toBe(1);
    }
    // 1.8 s after creation, alive because it was active; now let it idle.
    await sleep(1100);
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: null });
  });

  it('rolling on a store with touch: a read-only request touches (no rewrite) and refreshes the cookie', async () => {
    const store = new CountingStore();
    const target = await boot({ lifetime: 60, rolling: true, store });
    const cookie = sessionCookie(await http(target).get('/write').expect(200))!;
    store.reset();
    const res = await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
    expect(store.calls).toMatchObject({ read: 1, touch: 1, write: 0, update: 0 });
    expect(maxAgeOf(res)).toBe(60);
  });

  it('maxLifetime caps a rolling session from creation', async () => {
    const target = await boot({ lifetime: 10, rolling: true, maxLifetime: 1 });
    const first = await http(target).get('/write').expect(200);
    expect(maxAgeOf(first)).toBe(1);
    const cookie = sessionCookie(first)!;
    await sleep(600);
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
    await sleep(600);
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: null });
  });

  it('lifetime 0: browser-session cookie (no Max-Age); the server keeps data fallbackTtl after the last write', async () => {
    const store = new ForgetfulTtlStore();
    const target = await boot({ lifetime: 0, fallbackTtl: 1, store });
    const first = await http(target).get('/write').expect(200);
    expect(setCookies(first)[0]).not.toMatch(/Max-Age|Expires/);
    expect(store.ttls).toEqual([1]);
    const cookie = sessionCookie(first)!;
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: 1 });
    await sleep(1100);
    await http(target).get('/read').set('Cookie', cookie).expect(200, { n: null });
  });

  it('store TTLs never exceed the time the session has left', async () => {
    const store = new ForgetfulTtlStore();
    const target = await boot({ lifetime: 3, store });
    const cookie = sessionCookie(await http(target).get('/write').expect(200))!;
    await sleep(1100);
    await http(target).get('/write').set('Cookie', cookie).expect(200, { n: 2 });
    // Millisecond precision: never above what is left, and not a whole second below it either.
    expect(store.ttls[0]).toBeLessThanOrEqual(3);
    expect(store.ttls[0]).toBeGreaterThan(2.9);
    expect(store.ttls[1]).toBeLessThanOrEqual(3 - 1.1);
    expect(store.ttls[1]).toBeGreaterThan(1.7);
  });
});
