/**
 * The per-user session index (list, revoke, log out everywhere) on PostgresStore, through a real
 * app on Express and Fastify: the scenarios test/e2e/user-sessions runs for MemoryStore and
 * RedisStore. The index is a side table (`<table>_users`) keyed by handle, with an index on the
 * user; a listing is one statement that joins the live session rows, so a removed or expired
 * session leaves it at once.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PLATFORMS } from '../../support/session-app.js';
import { userSessionScenarios } from '../user-sessions/user-session-scenarios.js';
import { describePostgres, kindOf, openPostgres, ownName, type PostgresFixture } from './postgres-e2e-support.js';

describe.each(PLATFORMS)('per-user sessions on PostgresStore (%s)', (platform) => {
  const tables = [`sk_e2e_users_${platform}`, `sk_e2e_users_short_${platform}`, `sk_e2e_users_roll_${platform}`].map(ownName);

  describePostgres('per-user sessions: PostgresStore', () => {
    let pg: PostgresFixture;
    userSessionScenarios(platform, async () => {
      pg = await openPostgres(tables);
      return {
        store: pg.store(tables[0]!),
        shortStore: pg.store(tables[1]!),
        rollingStore: pg.store(tables[2]!),
        stop: () => pg.stop(),
      };
    });

    it('a listing is one statement on the index (joined to the live session rows)', async () => {
      const store = pg.store(tables[0]!);
      await store.init();
      pg.take();
      await store.listUserSessions(`user-${randomUUID()}`);
      expect(pg.take().map(kindOf)).toEqual(['SELECT (list)']);
    });
  });
});
