/**
 * A store error as a log line may show it. Store messages are third-party text that can quote a
 * key: anything shaped like a session ID is masked, since logs must never carry one.
 */
export function storeErrorDetail(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/[A-Za-z0-9_-]{20,}/g, '[redacted]');
}
