/**
 * A cache for work that a returning client makes the server repeat on every request (verifying
 * the same cookie, decrypting the same cookie-store payload), bounded by entries and by the
 * characters of its keys plus the bytes of its values. When full it starts over: cheaper than
 * LRU bookkeeping, and a flood of distinct keys only costs misses.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  private size = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxSize: number,
    private readonly sizeOf: (value: V) => number = () => 0,
  ) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    const size = key.length + this.sizeOf(value);
    if (size > this.maxSize) return;
    if (this.entries.size >= this.maxEntries || this.size + size > this.maxSize) {
      this.entries.clear();
      this.size = 0;
    }
    if (this.entries.has(key)) return;
    this.entries.set(key, value);
    this.size += size;
  }
}
