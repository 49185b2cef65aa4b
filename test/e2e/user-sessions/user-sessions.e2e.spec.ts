/**
 * Issue 4, per-user session index (SPEC §6 "list, revoke, log out everywhere"), through a real
 * app on MemoryStore, RedisStore on a single node, and RedisStore on a 3-master Cluster.
 */
import { describe } from '@jest/globals';
import { MemoryStore } from '../../../src/index.js';
import { RedisStore } from '../../../src/redis/index.js';
import { PLATFORMS } from '../../support/session-app.js';
import { describeRedis, startTopology, type RedisTopology, type TopologyKind } from '../concurrency/support.js';
import { userSessionScenarios } from './user-session-scenarios.js';

describe.each(PLATFORMS)('per-user sessions (%s)', (platform) => {
  // Each platform gets its own stores (and, for Redis, its own servers).
  describe('per-user sessions: MemoryStore', () => {
    userSessionScenarios(platform, async () => {
      const [store, shortStore, rollingStore] = [new MemoryStore(), new MemoryStore(), new MemoryStore()];
      return {
        store,
        shortStore,
        rollingStore,
        async stop() {
          for (const s of [store, shortStore, rollingStore]) s.close();
        },
      };
    });
  });

  for (const kind of ['single', 'cluster'] as TopologyKind[]) {
    describeRedis(`per-user sessions: RedisStore (${kind === 'single' ? 'single node' : '3-master Cluster'})`, () => {
      userSessionScenarios(platform, async () => {
        const topology: RedisTopology = await startTopology(kind);
        return {
          store: new RedisStore({ client: topology.client }),
          shortStore: new RedisStore({ client: topology.client, prefix: 'short:' }),
          rollingStore: new RedisStore({ client: topology.client, prefix: 'roll:' }),
          stop: () => topology.stop(),
        };
      });
    });
  }
});
