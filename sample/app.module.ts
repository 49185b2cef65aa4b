import { Module } from '@nestjs/common';
import { SessionModule } from '../src/index.js';
import { ApiController } from './api.controller.js';
import { PagesController } from './pages.controller.js';
import { sessionOptionsFromEnv } from './session-config.js';

@Module({
  imports: [
    // forRootAsync: the environment is read when the app is created, not when this file is imported.
    SessionModule.forRootAsync({ useFactory: () => sessionOptionsFromEnv() }),
  ],
  controllers: [PagesController, ApiController],
})
export class AppModule {}
