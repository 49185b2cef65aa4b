import { Global, Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { SESSION_OPTIONS, SESSION_STORE } from './session.constants.js';
import {
  ConfigurableSessionModule,
  SESSION_ASYNC_OPTIONS_TYPE,
  SESSION_MODULE_OPTIONS,
} from './session.module-definition.js';
import type {
  ResolvedSessionOptions,
  SessionModuleOptions,
  SessionOptionsFactory,
} from './interfaces/session-options.interface.js';
import type { SessionStore } from './interfaces/session-store.interface.js';
import { SessionInterceptor } from './interceptors/session.interceptor.js';
import { resolveSessionOptions } from './options/session-options.validator.js';
import { SessionService } from './services/session.service.js';
import { SessionManager } from './session/session.manager.js';
import { SessionEvents } from './events/session-events.service.js';
import { SessionEventsExplorer } from './events/session-events.explorer.js';

/**
 * A store given as a class is built by Nest DI in this module's context, so it can inject the
 * providers of `forRootAsync({ imports })` and of global modules. If the class is already a
 * provider somewhere, that instance is used.
 */
async function resolveStore(options: ResolvedSessionOptions, moduleRef: ModuleRef): Promise<SessionStore> {
  if (typeof options.store !== 'function') return options.store;
  const storeClass = options.store as Type<SessionStore>;
  try {
    return moduleRef.get(storeClass, { strict: false });
  } catch {
    return moduleRef.create(storeClass);
  }
}

const providers: Provider[] = [
  {
    provide: SESSION_OPTIONS,
    useFactory: (options: SessionModuleOptions) => resolveSessionOptions(options),
    inject: [SESSION_MODULE_OPTIONS],
  },
  {
    provide: SESSION_STORE,
    useFactory: resolveStore,
    inject: [SESSION_OPTIONS, ModuleRef],
  },
  SessionEvents,
  SessionEventsExplorer,
  SessionManager,
  SessionService,
  { provide: APP_INTERCEPTOR, useClass: SessionInterceptor },
];

/**
 * Server-side sessions. Import once, in the root module: `SessionModule.forRoot({ secret })`
 * or `SessionModule.forRootAsync({ imports, inject, useFactory })`. Global.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers,
  // SessionManager for SessionMiddleware and CsrfGuard, which apps apply in their own modules.
  exports: [SessionService, SessionEvents, SessionManager, SESSION_OPTIONS, SESSION_STORE],
})
export class SessionModule extends ConfigurableSessionModule {
  /**
   * `useClass`/`useExisting` factories may name their method `createSessionOptions()` (the Nest
   * convention, as `createCacheOptions()`) or `create()` (what ConfigurableModuleBuilder calls).
   */
  static override forRootAsync(options: typeof SESSION_ASYNC_OPTIONS_TYPE): DynamicModule {
    const { useClass, useExisting, ...rest } = options;
    const factoryClass = useClass ?? useExisting;
    if (!factoryClass) return super.forRootAsync(options);
    const module = super.forRootAsync({
      ...rest,
      inject: [factoryClass],
      useFactory: (factory: SessionOptionsFactory) => callOptionsFactory(factory),
    });
    if (useClass) module.providers = [...(module.providers ?? []), { provide: useClass, useClass }];
    return module;
  }
}

function callOptionsFactory(factory: SessionOptionsFactory): SessionModuleOptions | Promise<SessionModuleOptions> {
  if (typeof factory.createSessionOptions === 'function') return factory.createSessionOptions();
  if (typeof factory.create === 'function') return factory.create();
  throw new TypeError('SessionModule.forRootAsync: the options factory class needs a createSessionOptions() method.');
}
