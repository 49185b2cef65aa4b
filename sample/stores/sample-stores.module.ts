import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SampleMapStore, SampleSessionBackend } from './sample-map.store.js';

/**
 * The Redis connection when REDIS_URL is set. The app owns it (RedisStore never closes a
 * client), so it is closed here on shutdown. The options keep an outage short: commands fail
 * instead of queueing, and the client keeps reconnecting in the background.
 */
@Injectable()
export class SampleRedisConnection implements OnApplicationShutdown {
  readonly client: Redis | undefined;

  constructor() {
    const url = process.env.REDIS_URL;
    this.client = url
      ? new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: (times) => Math.min(times * 200, 2000) })
      : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.quit().catch(() => this.client?.disconnect());
  }
}

@Module({
  providers: [SampleRedisConnection, SampleSessionBackend, SampleMapStore],
  exports: [SampleRedisConnection, SampleSessionBackend, SampleMapStore],
})
export class SampleStoresModule {}
