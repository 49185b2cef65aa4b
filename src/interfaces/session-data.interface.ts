/**
 * The shape of the session data. Augment it in your app, as with express-session:
 *
 * ```ts
 * declare module '@sessionkit/nest' {
 *   interface SessionData { userId?: string; visits?: number }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {
  [key: string]: unknown;
}
