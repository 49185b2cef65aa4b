import { Redis } from 'ioredis';
import { startRedisServer } from '../../support/redis-server.js';
import { describeRedisStoreScenarios } from './redis-scenarios.js';

describeRedisStoreScenarios('single node', async () => {
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
