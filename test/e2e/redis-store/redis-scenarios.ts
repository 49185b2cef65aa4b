/**
 * The RedisStore scenarios run through a real Nest app, once against a single Redis node and
 * once against a 3-master Cluster (see the two `*.e2e.spec.ts` files that call this), on the
 * given HTTP platform; `connect` is called once per call, so each platform gets its own servers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Req, type INestApplication, type Type } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { Session, SessionModule, SessionService, type SessionData } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { redisAvailable, redisCommand, sleep } from '../../support/redis-server.js';
import { SECRET, cookieValue, http, idOf, sessionCookie, setCookies, startApp, type Platform } from '../../support/session-app.js';
import { CommandRecorder, Gate, activityOn, isConditionalWrite, summary } from './redis-e2e-support.js';

export interface RedisTopology {
  client: Redis | Cluster;
  /** Ports of every master, for MONITOR and inspection. */
  ports: number[];
  stop(): Promise<void>;
}

const LIFETIME = 60;

/** Runs `args` on whichever node owns the key (others answer MOVED). */
async function onOwner(ports: readonly number[], args: string[]): Promise<unknown> {
  const replies = await Promise.allSettled(ports.map((port) => redisCommand(port, args)));
  const ok = replies.find((r) => r.status === 'fulfilled');
  if (!ok) throw (replies[0] as PromiseRejectedResult).reason;
  return (ok as PromiseFulfilledResult<unknown>).value;
}

export function describeRedisStoreScenarios(label: string, platform: Platform, connect: () => Promise<RedisTopology>): void {
  const describeRedis = redisAvailable() ? describe : describe.skip;

  describeRedis(`RedisStore through the HTTP app (${label})`, () => {
    let topology: RedisTopology;
    let recorder: CommandRecorder;
    let fixed: INestApplication;
    let rolling: INestApplication;
    const gates: { current: Gate } = { current: new Gate() };
    const measured: string[] = [];

    @Controller()
    class CounterController {
      constructor(private readonly sessions: SessionService) {}
      @Get('count') count(@Session() session: SessionData) {
        session.count = ((session.count as number | undefined) ?? 0) + 1;
        return { count: session.count };
      }
      @Get('peek') peek(@Session() session: SessionData) {
        return { ...session };
      }
      @Get('logout') async logout(@Req() req: unknown) {
        await this.sessions.destroy(req);
        return { ok: true };
      }
      /** Loads the session, waits until the test releases it, then (optionally) modifies it. */
      @Get('slow') async slow(@Session() session: SessionData) {
        await gates.current.wait();
        session.count = ((session.count as number | undefined) ?? 0) + 1;
        return { count: session.count };
      }
      @Get('slow-peek') async slowPeek(@Session() session: SessionData) {
        await gates.current.wait();
        return { ...session };
      }
    }

    const appModule = (name: string, options: { rolling: boolean; prefix?: string }): Type => {
      @Module({
        imports: [
          SessionModule.forRoot({
            secret: SECRET,
            store: new RedisStore({ client: topology.client, ...(options.prefix ? { prefix: options.prefix } : {}) }),
            lifetime: LIFETIME,
            rolling: options.rolling,
            cookie: { secure: false },
            logger: false,
          }),
        ],
        controllers: [CounterController],
      })
      class FixtureModule {}
      Object.defineProperty(FixtureModule, 'name', { value: name });
      return FixtureModule;
    };

    const fixedKey = (pair: string | undefined) => `sess:${idOf(pair)}`;
    const rollingKey = (pair: string | undefined) => `roll:${idOf(pair)}`;
    const pttl = async (key: string) => (await onOwner(topology.ports, ['PTTL', key])) as number;
    const exists = async (key: string) => (await onOwner(topology.ports, ['EXISTS', key])) as number;
    // The record is a hash: one field per session field, raw bytes.
    const fieldsAt = async (key: string) => {
      const reply = (await topology.client.callBuffer('HGETALL', key)) as Buffer[];
      const fields = new Map<string, Buffer>();
      for (let i = 0; i < reply.length; i += 2) fields.set(reply[i]!.toString(), reply[i + 1]!);
      return fields;
    };

    /** A new session on `app` with count 1; returns its cookie. */
    async function newSession(app: INestApplication): Promise<string> {
      const res = await http(app).get('/count').expect(200, { count: 1 });
      const cookie = sessionCookie(res);
      expect(cookie).toBeDefined();
      return cookie!;
    }

    beforeAll(async () => {
      topology = await connect();
      recorder = await CommandRecorder.open(topology.ports);
      fixed = await startApp(appModule('FixedRedisApp', { rolling: false }), platform);
      rolling = await startApp(appModule('RollingRedisApp', { rolling: true, prefix: 'roll:' }), platform);
      // Warm-up on every node (scripts cached, connections open): the counts below are steady-state.
      for (const app of [fixed, rolling]) {
        for (let i = 0; i < 24; i++) {
          const cookie = sessionCookie(await http(app).get('/count').expect(200))!;
          await http(app).get('/count').set('Cookie', cookie).expect(200);
        }
      }
    }, 60000);

    afterAll(async () => {
      await fixed?.close();
      await rolling?.close();
      recorder?.close();
      await topology?.stop();
      if (measured.length) console.log(`Redis commands per request (${label}, ${platform}):\n  ${measured.join('\n  ')}`);
    });

    beforeEach(() => {
      gates.current = new Gate();
    });

    it('a counter works across requests', async () => {
      const cookie = await newSession(fixed);
      await http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      await http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 3 });
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, { count: 3 });
      expect(await exists(fixedKey(cookie))).toBe(1);
    });

    it('a new session costs one round trip that writes the data with a TTL (one SET ... PX, no XX)', async () => {
      const { result: res, commands } = await recorder.record(() => http(fixed).get('/count').expect(200, { count: 1 }));
      const key = fixedKey(sessionCookie(res));
      const on = activityOn(commands, key);
      expect(on.roundTrips).toHaveLength(1);
      expect(commands.filter((c) => !c.lua)).toHaveLength(1); // nothing else either
      expect(on.dataWrites.length).toBeGreaterThan(0);
      expect(on.ttlMs).toBeGreaterThan(0);
      expect(on.ttlMs).toBeLessThanOrEqual(LIFETIME * 1000);
      const trip = on.roundTrips[0]!;
      if (trip.name === 'SET') {
        expect(trip.args.slice(2).map((f) => f.toUpperCase())).not.toContain('XX');
      } else {
        expect(on.scripts).toEqual([trip]); // one atomic script: data and TTL together
      }
      measured.push(`new session: ${summary(commands)}`);
    });

    it('a read-only request on a fixed-lifetime session is one read (GET) and writes nothing', async () => {
      const cookie = await newSession(fixed);
      const key = fixedKey(cookie);
      const before = await onOwner(topology.ports, ['DUMP', key]);
      const ttlBefore = await pttl(key);
      const { result: res, commands } = await recorder.record(() =>
        http(fixed).get('/peek').set('Cookie', cookie).expect(200, { count: 1 }),
      );
      const on = activityOn(commands, key);
      expect(commands.filter((c) => !c.lua)).toHaveLength(1);
      expect(on.reads).toHaveLength(1);
      expect(on.roundTrips).toEqual(on.reads);
      expect(on.dataWrites).toEqual([]);
      expect(on.ttlWrites).toEqual([]);
      expect(on.scripts).toEqual([]);
      expect(setCookies(res)).toEqual([]);
      expect(await onOwner(topology.ports, ['DUMP', key])).toBe(before);
      expect(await pttl(key)).toBeLessThanOrEqual(ttlBefore);
      measured.push(`read-only (fixed): ${summary(commands)}`);
    });

    it('a modifying request is one read and one conditional write with a TTL (GET + SET ... PX ... XX)', async () => {
      const cookie = await newSession(fixed);
      const key = fixedKey(cookie);
      const { result: res, commands } = await recorder.record(() =>
        http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 2 }),
      );
      const on = activityOn(commands, key);
      expect(commands.filter((c) => !c.lua)).toHaveLength(2);
      expect(on.roundTrips).toHaveLength(2);
      expect(on.roundTrips[0]).toEqual(on.reads[0]);
      const write = on.roundTrips[1]!;
      // XX (or a script that checks EXISTS first): an update never recreates a removed record.
      expect(isConditionalWrite(write, commands, key)).toBe(true);
      expect(on.dataWrites.length).toBeGreaterThan(0);
      expect(on.ttlMs).toBeGreaterThan(0);
      expect(on.ttlMs).toBeLessThanOrEqual(LIFETIME * 1000);
      // Same ID, re-sent with the saved data.
      expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, { count: 2 });
      measured.push(`modifying: ${summary(commands)}`);
    });

    it('a rolling read-only request is one read and one PEXPIRE, rewrites no data, and re-sends the cookie', async () => {
      const cookie = await newSession(rolling);
      const key = rollingKey(cookie);
      const before = await onOwner(topology.ports, ['DUMP', key]);
      await sleep(300);
      const ttlBefore = await pttl(key);
      const { result: res, commands } = await recorder.record(() =>
        http(rolling).get('/peek').set('Cookie', cookie).expect(200, { count: 1 }),
      );
      const on = activityOn(commands, key);
      expect(commands.filter((c) => !c.lua)).toHaveLength(2);
      expect(on.roundTrips).toHaveLength(2);
      expect(on.roundTrips[0]).toEqual(on.reads[0]);
      expect(on.roundTrips[1]!.name).toBe('PEXPIRE');
      expect(on.dataWrites).toEqual([]);
      // The idle deadline counts from the stored last-access stamp (written 300 ms ago, fresh:
      // only touched), so the TTL is what the session has left from it, never more.
      expect(on.ttlMs).toBeGreaterThan(LIFETIME * 1000 - 2000);
      expect(on.ttlMs).toBeLessThanOrEqual(LIFETIME * 1000 - 300);
      const ttlAfter = await pttl(key);
      expect(ttlAfter).toBeGreaterThanOrEqual(ttlBefore - 100);
      expect(ttlAfter).toBeLessThanOrEqual(LIFETIME * 1000 - 300);
      // The data itself was not rewritten.
      expect(await onOwner(topology.ports, ['DUMP', key])).toBe(before);
      expect(idOf(sessionCookie(res))).toBe(idOf(cookie));
      measured.push(`read-only (rolling): ${summary(commands)}`);
    });

    it('a rolling read once the stamp is stale rewrites the stamp field alone (one EVALSHA), and the TTL grows back to the lifetime', async () => {
      const cookie = await newSession(rolling);
      const key = rollingKey(cookie);
      const before = await fieldsAt(key);
      expect(before.size).toBeGreaterThan(1);
      // 60 s lifetime: the stamp is rewritten once older than 3 s.
      await sleep(3100);
      const ttlBefore = await pttl(key);
      const { commands } = await recorder.record(() => http(rolling).get('/peek').set('Cookie', cookie).expect(200, { count: 1 }));
      const on = activityOn(commands, key);
      expect(commands.filter((c) => !c.lua)).toHaveLength(2);
      expect(on.roundTrips[1]!.name).toBe('EVALSHA');
      const after = await fieldsAt(key);
      for (const [field, value] of before) {
        if (field === 'm') expect(after.get(field)).not.toEqual(value);
        else expect(after.get(field)).toEqual(value);
      }
      expect(await pttl(key)).toBeGreaterThan(ttlBefore + 2000);
    });

    it('logout (sessionService.destroy) removes the key and clears the cookie', async () => {
      const cookie = await newSession(fixed);
      const key = fixedKey(cookie);
      expect(await exists(key)).toBe(1);
      const { result: res, commands } = await recorder.record(() =>
        http(fixed).get('/logout').set('Cookie', cookie).expect(200, { ok: true }),
      );
      expect(await exists(key)).toBe(0);
      const on = activityOn(commands, key);
      expect(on.dataWrites.some((c) => ['DEL', 'UNLINK'].includes(c.name))).toBe(true);
      expect(on.dataWrites.filter((c) => !['DEL', 'UNLINK'].includes(c.name))).toEqual([]);
      const clearing = setCookies(res).find((c) => c.startsWith('sid='));
      expect(clearing).toMatch(/Max-Age=0/i);
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, {});
      measured.push(`logout: ${summary(commands)}`);
    });

    it('the TTL written by an update never exceeds the time the session has left (fixed lifetime)', async () => {
      const created = await newSession(fixed);
      const createdBy = Date.now(); // the session was created before this instant
      const key = fixedKey(created);
      const first = await pttl(key);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(LIFETIME * 1000);
      // Modify 1.5 s later: the session (fixed lifetime) has at most 58.5 s left, not 59 or 60.
      await sleep(1500);
      await http(fixed).get('/count').set('Cookie', created).expect(200, { count: 2 });
      const checkedAt = Date.now();
      const ttl = await pttl(key);
      const left = createdBy + LIFETIME * 1000 - checkedAt;
      expect(ttl).toBeGreaterThan(0);
      // 5 ms of tolerance for Redis's own clock granularity.
      expect(ttl).toBeLessThanOrEqual(left + 5);
    });

    it('every key in Redis carries a TTL within the lifetime (PTTL > 0, <= 60000)', async () => {
      const cookie = await newSession(fixed);
      await http(fixed).get('/count').set('Cookie', cookie).expect(200, { count: 2 });
      await newSession(rolling);
      let seen = 0;
      for (const port of topology.ports) {
        const keys = (await redisCommand(port, ['KEYS', '*'])) as string[];
        for (const k of keys) {
          const t = (await redisCommand(port, ['PTTL', k])) as number;
          expect({ key: k, hasTtl: t > 0 && t <= LIFETIME * 1000 }).toEqual({ key: k, hasTtl: true });
          seen++;
        }
      }
      expect(seen).toBeGreaterThanOrEqual(2);
    });

    it('a destroyed session is not resurrected by a slower concurrent request that loaded it earlier', async () => {
      const cookie = await newSession(fixed);
      const key = fixedKey(cookie);
      const slow = http(fixed).get('/slow').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived;
      await http(fixed).get('/logout').set('Cookie', cookie).expect(200);
      expect(await exists(key)).toBe(0);
      const { result: slowRes, commands } = await recorder.record(async () => {
        gates.current.open();
        return slow;
      });
      expect(slowRes.status).toBe(200);
      // The slow request's update is conditional (SET XX, or a script checking EXISTS) and finds nothing to update.
      const on = activityOn(commands, key);
      for (const trip of on.roundTrips.filter((c) => c.name === 'SET' || on.scripts.includes(c))) {
        expect(isConditionalWrite(trip, commands, key)).toBe(true);
      }
      expect(on.dataWrites.filter((c) => c.name !== 'DEL' && c.name !== 'UNLINK')).toEqual(on.dataWrites.filter((c) => c.name === 'SET'));
      expect(await exists(key)).toBe(0);
      // It does not hand the browser back the cookie that the logout cleared.
      expect(setCookies(slowRes).filter((c) => c.startsWith('sid=') && !/Max-Age=0/i.test(c))).toEqual([]);
      await http(fixed).get('/peek').set('Cookie', cookie).expect(200, {});
    });

    it('a rolling read-only request that loaded a session before its logout does not bring the key back', async () => {
      const cookie = await newSession(rolling);
      const key = rollingKey(cookie);
      const slow = http(rolling).get('/slow-peek').set('Cookie', cookie).then((r) => r);
      await gates.current.arrived;
      await http(rolling).get('/logout').set('Cookie', cookie).expect(200);
      gates.current.open();
      const slowRes = await slow;
      expect(slowRes.status).toBe(200);
      expect(await exists(key)).toBe(0);
      const after = await http(rolling).get('/peek').set('Cookie', cookie).expect(200, {});
      expect(setCookies(after)).toEqual([]);
      expect(cookieValue(cookie)).toBeDefined();
    });
  });
}
