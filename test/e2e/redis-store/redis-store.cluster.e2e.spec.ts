import { describe } from '@jest/globals';
import { Cluster } from 'ioredis';
import { startCluster } from '../../support/redis-server.js';
import { PLATFORMS } from '../../support/session-app.js';
import { describeRedisStoreScenarios } from './redis-scenarios.js';

describe.each(PLATFORMS)('RedisStore (%s)', (platform) => {
  // Each platform gets its own servers (connect runs once per platform).
  describeRedisStoreScenarios('3-master Cluster', platform, async () => {
    const cluster = await startCluster();
    const client = new Cluster(cluster.startupNodes);
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('end', () => reject(new Error('cluster client ended before ready')));
    });
    return {
      client,
      ports: cluster.nodes.map((n) => n.port),
      async stop() {
        await client.quit().catch(() => client.disconnect());
        await cluster.stop();
      },
    };
  });
});
