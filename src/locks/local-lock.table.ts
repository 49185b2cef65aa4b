/**
 * Token locks kept in this process: the MemoryStore's, and the fallback for stores that cannot
 * lock (which then serialize requests within one process only).
 */
export class LocalLockTable {
  private readonly locks = new Map<string, { token: string; expiresAt: number }>();

  acquire(id: string, token: string, ttl: number): boolean {
    const held = this.locks.get(id);
    if (held && held.expiresAt > Date.now()) return false;
    this.locks.set(id, { token, expiresAt: Date.now() + ttl });
    return true;
  }

  release(id: string, token: string): void {
    // Only the owner releases: a holder whose lock expired must not free its successor's.
    if (this.locks.get(id)?.token === token) this.locks.delete(id);
  }
}
