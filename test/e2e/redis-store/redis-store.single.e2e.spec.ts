import { describe } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../support/redis-server.js';
import { PLATFORMS } from '../../support/session-app.js';
import { describeRedisStoreScenarios } from './redis-scenarios.js';

describe.each(PLATFORMS)('RedisStore (%s)', (platform) => {
  // Each platform gets its own servers (connect runs once per platform).
  describeRedisStoreScenarios('single node', platform, async () => {
    const server = await startRedisServer();
    const client = new Redis({ host: server.host, port: server.port });
    client.on('error', () => {});
    await client.ping();
    return {
      client,
      ports: [server.port],
      async stop() {
        await client.quit().catch(() => client.disconnect());
        await server.stop();
      },
    };
  });
});
