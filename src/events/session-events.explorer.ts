import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { SESSION_EVENT_METADATA } from '../session.constants.js';
import type { SessionEvent, SessionEventType } from './session-event.interface.js';
import { SessionEvents } from './session-events.service.js';

/** Subscribes every `@OnSessionEvent()` method of the app's providers, once, at bootstrap. */
@Injectable()
export class SessionEventsExplorer implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly events: SessionEvents,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[name] as ((event: SessionEvent) => unknown) | undefined;
        if (typeof method !== 'function') continue;
        const types = this.reflector.get<SessionEventType[] | undefined>(SESSION_EVENT_METADATA, method);
        if (types) this.events.subscribe((event) => method.call(instance, event) as void, ...types);
      }
    }
  }
}
