import { Injectable } from '@nestjs/common';
import type { SessionStore } from '../../src/index.js';

/** Where the custom store keeps its records: an ordinary provider the store gets injected. */
@Injectable()
export class SampleSessionBackend {
  readonly records = new Map<string, { data: Uint8Array; expiresAt: number }>();
}

/**
 * A custom store registered through DI (`SESSION_STORE_KIND=custom`): the module builds it with
 * Nest's injector, so it can depend on other providers. It shows the whole contract a
 * third-party store implements; test/e2e/sample runs the conformance suite against it.
 */
@Injectable()
export class SampleMapStore implements SessionStore {
  constructor(private readonly backend: SampleSessionBackend) {}

  async read(id: string): Promise<Uint8Array | null> {
    const record = this.backend.records.get(id);
    if (!record || record.expiresAt <= Date.now()) {
      this.backend.records.delete(id);
      return null;
    }
    return record.data;
  }

  async write(id: string, data: Uint8Array, _lifetime: number, ttl: number): Promise<string> {
    this.backend.records.set(id, { data, expiresAt: Date.now() + ttl * 1000 });
    return id;
  }

  async remove(id: string): Promise<void> {
    this.backend.records.delete(id);
  }

  async touch(id: string, ttl: number): Promise<void> {
    const record = this.backend.records.get(id);
    if (record) record.expiresAt = Date.now() + ttl * 1000;
  }
}
