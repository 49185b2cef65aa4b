import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { CsrfGuard, SessionModule } from '../src/index.js';
import { ApiController } from './api.controller.js';
import { PagesController } from './pages.controller.js';
import { NameLoginStrategy, SampleSerializer } from './passport-login.js';
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
    // Login sessions through Passport; keepSessionInfo carries the visit counter across the login.
    PassportModule.register({ session: true, keepSessionInfo: true }),
  ],
  controllers: [PagesController, ApiController],
  providers: [
    // Every POST/PUT/PATCH/DELETE of the app needs the session's CSRF token (the forms' hidden
    // `_csrf` field, or the `x-csrf-token` header from fetch). A route that must accept posts
    // from elsewhere (a webhook) opts out with @SkipCsrf().
    { provide: APP_GUARD, useClass: CsrfGuard },
    NameLoginStrategy,
    SampleSerializer,
  ],
})
export class AppModule {}
