/**
 * Issue 4, field records on Redis: each top-level session key is its own hash field, still
 * encrypted when an encryptor is set, and a commit sends Redis only the fields that changed
 * (plus the metadata field `m`), in one script call.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param, Query, type INestApplication } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { AesGcmEncryptor, Session, SessionModule, type SessionData, type Encryptor } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { redisCommand } from '../../support/redis-server.js';
import { PLATFORMS, SECRET, http, idOf, listen, sessionCookie, startApp } from '../../support/session-app.js';
import { MonitorTap, commandStats, describeRedis, startTopology, statsDelta, type RedisTopology, type TopologyKind } from './support.js';
import { FieldNames } from '../../../src/records/field-record.js';

/** The fields of a stored per-key record: a Redis hash, raw bytes per field. */
async function fieldsAt(client: Redis | Cluster, key: string): Promise<Record<string, Buffer>> {
  const reply = (await client.callBuffer('HGETALL', key)) as Buffer[];
  if (reply.length === 0) throw new Error(`no record at ${key}`);
  const fields: Record<string, Buffer> = {};
  for (let i = 0; i < reply.length; i += 2) fields[reply[i]!.toString()] = reply[i + 1]!;
  return fields;
}

const MARKER = 'plaintext-marker';

@Controller()
class FieldsController {
  @Get('fill') fill(@Session() session: SessionData) {
    session.secretA = `${MARKER}-alpha`;
    session.cart = [`${MARKER}-item`, { sku: `${MARKER}-sku` }];
    session.count = 41;
    return { ok: true };
  }
  @Get('five') five(@Session() session: SessionData) {
    for (const k of ['k1', 'k2', 'k3', 'k4', 'k5']) session[k] = `initial-${k}`;
    return { ok: true };
  }
  @Get('set/:k') set(@Session() session: SessionData, @Param('k') k: string, @Query('v') v: string) {
    session[k] = v;
    return { ok: true };
  }
  @Get('all') all(@Session() session: SessionData) {
    return { ...session };
  }
}

function appModule(client: Redis | Cluster, prefix: string, encryptor?: Encryptor) {
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store: new RedisStore({ client, prefix }),
        ...(encryptor ? { encryptor } : {}),
        cookie: { secure: false },
        logger: false,
      }),
    ],
    controllers: [FieldsController],
  })
  class FieldsAppModule {}
  return FieldsAppModule;
}

async function start(path: string, app: INestApplication): Promise<string> {
  const res = await http(app).get(path).expect(200);
  const cookie = sessionCookie(res);
  expect(cookie).toBeDefined();
  return cookie!;
}

describe.each(PLATFORMS)('Redis field records (%s)', (platform) => {
  // Each platform gets its own servers.
  for (const kind of ['single', 'cluster'] as TopologyKind[]) {
    describeRedis(`field records stay encrypted (RedisStore, ${kind === 'single' ? 'single node' : '3-master Cluster'})`, () => {
      let topology: RedisTopology;
      let inspector: Redis | Cluster;
      let encrypted: INestApplication;
      let plain: INestApplication;
      const encryptor = new AesGcmEncryptor(randomBytes(32));

      beforeAll(async () => {
        topology = await startTopology(kind);
        inspector = await topology.newClient(); // a separate client, never the app's
        encrypted = await startApp(appModule(topology.client, 'enc:', encryptor), platform);
        plain = await startApp(appModule(topology.client, 'plain:'), platform);
        await listen(encrypted);
        await listen(plain);
      }, 60000);

      afterAll(async () => {
        await encrypted?.close();
        await plain?.close();
        await topology?.stop();
      });

      it('with AesGcmEncryptor, no raw record field holds the plaintext JSON of a value, and the app reads them all back', async () => {
        const cookie = await start('/fill', encrypted);
        const raw = await fieldsAt(inspector, `enc:${idOf(cookie)}`);
        // One field per top-level key, plus the metadata field; with an encryptor the key names
        // are opaque too (an HMAC under the module secret).
        const names = new FieldNames(SECRET);
        const name = (key: string) => names.of(key);
        expect(Object.keys(raw).sort()).toEqual([name('cart'), name('count'), name('secretA'), 'm'].sort());
        for (const field of Object.keys(raw)) expect(field).not.toMatch(/cart|count|secret/i);
        for (const [field, value] of Object.entries(raw)) {
          const text = value.toString('latin1');
          // (Long needles only: a two-byte one would turn up in random ciphertext now and then.)
          const leaks = [MARKER, '{"secretA":', '{"cart":', '{"count":41}'].filter((needle) => text.includes(needle));
          expect({ field, leaks }).toEqual({ field, leaks: [] });
          // 12-byte nonce + at least 1 byte + 16-byte tag.
          expect(value.length).toBeGreaterThan(28);
        }
        const { body } = await http(encrypted).get('/all').set('Cookie', cookie).expect(200);
        expect(body).toEqual({ secretA: `${MARKER}-alpha`, cart: [`${MARKER}-item`, { sku: `${MARKER}-sku` }], count: 41 });
        // A change of one key re-encrypts that field (fresh nonce) and leaves the others' bytes as they were.
        await http(encrypted).get('/set/count?v=42').set('Cookie', cookie).expect(200);
        const after = await fieldsAt(inspector, `enc:${idOf(cookie)}`);
        expect(after[name('secretA')]!.equals(raw[name('secretA')]!)).toBe(true);
        expect(after[name('cart')]!.equals(raw[name('cart')]!)).toBe(true);
        expect(after[name('count')]!.equals(raw[name('count')]!)).toBe(false);
        expect(after[name('count')]!.toString('latin1')).not.toContain('{"count":"42"}');
        const store = new RedisStore({ client: inspector, prefix: 'enc:' });
        expect(await readSessionData(store, idOf(cookie)!, { encryptor })).toEqual({ ...body, count: '42' });
        // Without the key nothing decodes.
        expect(await readSessionData(store, idOf(cookie)!)).toBeNull();
      });

      it('control: without an encryptor the same fields are plaintext JSON (so the check above can see a leak)', async () => {
        const cookie = await start('/fill', plain);
        const raw = await fieldsAt(inspector, `plain:${idOf(cookie)}`);
        expect(raw['d:secretA']!.toString('utf8')).toBe(JSON.stringify({ secretA: `${MARKER}-alpha` }));
        expect(raw['d:count']!.toString('utf8')).toBe('{"count":41}');
      });
    });
  }

  describeRedis('Redis receives only what changed (single node, INFO commandstats and MONITOR)', () => {
    let topology: RedisTopology;
    let app: INestApplication;
    let port: number;
    let monitor: MonitorTap;
    const report: string[] = [];

    beforeAll(async () => {
      topology = await startTopology('single');
      port = topology.ports[0]!;
      app = await startApp(appModule(topology.client, 'sess:'), platform);
      await listen(app);
      monitor = await MonitorTap.open(port);
    }, 60000);

    afterAll(async () => {
      monitor?.close();
      await app?.close();
      await topology?.stop();
      if (report.length) console.log(`Redis commands per request (field records, ${platform}):\n  ${report.join('\n  ')}`);
    });

    /** The commandstats delta of one request. */
    async function countCommands(action: () => Promise<unknown>): Promise<Record<string, number>> {
      const before = await commandStats(port);
      await action();
      return statsDelta(before, await commandStats(port));
    }

    it('changing one key of a 5-key session: 1 HGETALL + 1 EVALSHA, which carries only that field and `m`', async () => {
      const cookie = await start('/five', app);
      const key = `sess:${idOf(cookie)}`;
      const change = () => http(app).get('/set/k3?v=changed').set('Cookie', cookie).expect(200);

      const delta = await countCommands(change);
      // Client round trips: HGETALL and EVALSHA (the script is cached since the session was
      // created); the script checks the record exists, sets the two fields and renews the TTL.
      // Nothing decodes or re-encodes the record.
      expect(delta).toEqual({ hgetall: 1, evalsha: 1, exists: 1, hset: 1, pexpire: 1 });
      report.push(`change 1 key of 5: ${JSON.stringify(delta)}`);

      const { commands } = await monitor.record(port, () => http(app).get('/set/k3?v=changed-again').set('Cookie', cookie).expect(200));
      const trips = commands.filter((c) => !c.lua);
      expect(trips.map((c) => c.name)).toEqual(['HGETALL', 'EVALSHA']);
      const evalsha = trips[1]!;
      // EVALSHA sha numkeys key | ARGV: mode ttl nset (field value)*nset [fields to delete]
      const [, numkeys, scriptKey, mode, , nset, ...pairs] = evalsha.args;
      expect({ numkeys, scriptKey, mode, nset }).toEqual({ numkeys: '1', scriptKey: key, mode: 'u', nset: '2' });
      expect(pairs).toHaveLength(4); // ARGV count 7: nothing but `m` and `d:k3`, no deletions
      expect([pairs[0], pairs[2]].sort()).toEqual(['d:k3', 'm']);
      // Values travel as they are stored: raw bytes, one hash field each.
      const sent = pairs.join(' ');
      expect(sent).toContain('changed-again');
      expect(sent).not.toContain('initial-');
      const inScript = commands.filter((c) => c.lua).map((c) => c.name);
      expect(inScript).toEqual(['EXISTS', 'HSET', 'PEXPIRE']);
      expect(commands.filter((c) => c.lua && c.name === 'HSET')[0]!.args).toHaveLength(5); // key + 2 pairs
      // And the other four keys are intact.
      const { body } = await http(app).get('/all').set('Cookie', cookie).expect(200);
      expect(body).toEqual({ k1: 'initial-k1', k2: 'initial-k2', k3: 'changed-again', k4: 'initial-k4', k5: 'initial-k5' });
    });

    it('a read-only request is one HGETALL and nothing else', async () => {
      const cookie = await start('/five', app);
      const delta = await countCommands(() => http(app).get('/all').set('Cookie', cookie).expect(200));
      expect(delta).toEqual({ hgetall: 1 });
      report.push(`read only: ${JSON.stringify(delta)}`);
    });

    it('the very first time (script not cached on the server) EVALSHA falls back to one EVAL; then EVALSHA again', async () => {
      const cookie = await start('/five', app);
      await redisCommand(port, ['SCRIPT', 'FLUSH']);
      const first = await countCommands(() => http(app).get('/set/k1?v=x').set('Cookie', cookie).expect(200));
      // EVALSHA answers NOSCRIPT (a failed call, still counted), EVAL runs and caches the script.
      expect(first).toEqual({ hgetall: 1, evalsha: 1, eval: 1, exists: 1, hset: 1, pexpire: 1 });
      report.push(`first write after SCRIPT FLUSH: ${JSON.stringify(first)}`);
      const second = await countCommands(() => http(app).get('/set/k1?v=y').set('Cookie', cookie).expect(200));
      expect(second).toEqual({ hgetall: 1, evalsha: 1, exists: 1, hset: 1, pexpire: 1 });
    });
  });
});
