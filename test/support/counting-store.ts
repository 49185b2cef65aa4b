import { MemoryStore } from '../../src/stores/memory.store.js';

/** A real MemoryStore that counts calls, for asserting what the module asks of its store. */
export class CountingStore extends MemoryStore {
  readonly calls = { read: 0, write: 0, update: 0, remove: 0, touch: 0 };

  override async read(id: string) {
    this.calls.read++;
    return super.read(id);
  }
  override async write(id: string, data: Uint8Array, lifetime: number, ttl: number) {
    this.calls.write++;
    return super.write(id, data, lifetime, ttl);
  }
  override async update(id: string, data: Uint8Array, lifetime: number, ttl: number) {
    this.calls.update++;
    return super.update(id, data, lifetime, ttl);
  }
  override async remove(id: string) {
    this.calls.remove++;
    return super.remove(id);
  }
  override async touch(id: string, ttl: number) {
    this.calls.touch++;
    return super.touch(id, ttl);
  }
  total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }
  reset(): void {
    for (const key of Object.keys(this.calls) as (keyof typeof this.calls)[]) this.calls[key] = 0;
  }
}
