import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

function portFromEnv(): number {
  const raw = process.env.PORT ?? '3000';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535 (got "${raw}").`);
  }
  return port;
}

async function bootstrap(): Promise<void> {
  const port = portFromEnv();
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port);
  // PORT=0 picks a free port: log the one actually bound.
  const address = app.getHttpServer().address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  Logger.log(`Sample app listening on http://localhost:${bound}`, 'Bootstrap');
}

await bootstrap();
