/**
 * Deletes expired rows in the background, in small batches: each batch is one short statement
 * that finds at most `batch` expired rows through the `expires_at` index and deletes them by
 * `ctid`. Reads already ignore expired rows, so pruning is housekeeping only: it never runs on
 * the request path and never scans a whole table. `SKIP LOCKED` lets several app instances
 * prune the same table at once without waiting for each other.
 */
export class PostgresPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopping = false;

  constructor(
    /** Runs one batch statement; resolves to the number of rows it deleted. */
    private readonly deleteBatch: (statement: string, batch: number) => Promise<number>,
    private readonly statements: readonly string[],
    private readonly batch: number,
  ) {}

  /** Prunes every `interval` ms. The timer never keeps a process alive. */
  start(interval: number): void {
    this.timer = setInterval(() => {
      // Housekeeping: a failure (say, the database is down) waits for the next tick.
      this.prune().catch(() => undefined);
    }, interval);
    this.timer.unref();
  }

  /**
   * One pass over every table, batch after batch until a batch comes back short; resolves to
   * the rows deleted. A pass already running is joined, not doubled.
   */
  prune(): Promise<number> {
    if (!this.running) {
      this.stopping = false;
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /**
   * Stops the timer and waits for a running pass to end (it stops after its current batch).
   * `prune()` called afterwards still runs: only the timer is gone.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<number> {
    let total = 0;
    for (const statement of this.statements) {
      for (;;) {
        if (this.stopping) return total;
        const deleted = await this.deleteBatch(statement, this.batch);
        total += deleted;
        if (deleted < this.batch) break;
      }
    }
    return total;
  }
}
