import type { Encryptor } from '../interfaces/encryptor.interface.js';
import type { Serializer } from '../interfaces/serializer.interface.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { SessionStore } from '../interfaces/session-store.interface.js';
import { JsonSerializer } from '../serializers/json.serializer.js';
import { SessionCodec } from '../records/session-codec.js';
import { decodeFieldRecord } from '../records/field-record.js';

export interface ReadSessionDataOptions {
  /** The module's serializer, when not the default JSON one. */
  serializer?: Serializer;
  /** The module's encryptor, when one is configured. */
  encryptor?: Encryptor;
}

/**
 * What a store holds for a session ID, decoded as the module would (either record layout), or
 * `null` when the store has nothing (or nothing decodable) under it. For tests that check what
 * was persisted.
 */
export async function readSessionData(store: SessionStore, id: string, options: ReadSessionDataOptions = {}): Promise<SessionData | null> {
  const codec = new SessionCodec(options.serializer ?? new JsonSerializer(), options.encryptor);
  try {
    // Through plain read(): a per-key record reads as its single-value encoding.
    const bytes = await store.read(id, 0);
    if (!bytes || bytes.length === 0) return null;
    const fields = decodeFieldRecord(bytes);
    return fields ? codec.decodeFields(fields).data : codec.decodeBlob(bytes).data;
  } catch {
    return null;
  }
}
