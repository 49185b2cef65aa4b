import { Module } from '@nestjs/common';
import { SessionModule } from '../src/index.js';
import { ApiController } from './api.controller.js';
import { PagesController } from './pages.controller.js';
import { sessionOptionsFromEnv } from './session-config.js';
import { SampleRedisConnection, SampleStoresModule } from './stores/sample-stores.module.js';

@Module({
  imports: [
    // forRootAsync: the environment is read when the app is created, not when this file is imported.
    // Its `imports` let a store class (SampleMapStore) inject providers of SampleStoresModule.
    SessionModule.forRootAsync({
      imports: [SampleStoresModule],
      inject: [SampleRedisConnection],
      useFactory: (redis: SampleRedisConnection) => sessionOptionsFromEnv(process.env, redis),
    }),
  ],
  controllers: [PagesController, ApiController],
})
export class AppModule {}
