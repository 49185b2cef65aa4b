/** One operation waiting for its deadline; `expire` runs if it is still pending then. */
export interface PendingDeadline {
  readonly at: number;
  readonly expire: () => void;
}

/**
 * Time limits for many operations that share one budget, with one timer instead of a timer per
 * operation (a `setTimeout` + `clearTimeout` pair per Redis command shows up on the hot path).
 * Deadlines use the monotonic clock, so a wall-clock jump neither fires them early nor late.
 * Operations with the same budget expire in the order they started, so the timer only ever
 * waits for the oldest pending one. The timer is unref'd: it never keeps a process alive.
 */
export class DeadlineQueue {
  // A Set iterates in insertion order, that is, in deadline order.
  private readonly pending = new Set<PendingDeadline>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly budget: number) {}

  add(expire: () => void): PendingDeadline {
    const entry = { at: performance.now() + this.budget, expire };
    this.pending.add(entry);
    if (this.timer === undefined) this.arm(this.budget);
    return entry;
  }

  /** The operation finished in time. */
  settle(entry: PendingDeadline): void {
    this.pending.delete(entry);
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.expireDue(), delay);
    this.timer.unref();
  }

  private expireDue(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.at > now) return this.arm(entry.at - now);
      this.pending.delete(entry);
      entry.expire();
    }
  }
}
