/** Turns session data into bytes and back. Synchronous: it runs on the request's hot path. */
export interface Serializer {
  serialize(data: Record<string, unknown>): Uint8Array;
  /** Throws when the bytes are not a valid payload; the module then starts an empty session. */
  deserialize(data: Uint8Array): Record<string, unknown>;
}
