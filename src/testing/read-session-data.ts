import type { Encryptor } from '../interfaces/encryptor.interface.js';
import type { Serializer } from '../interfaces/serializer.interface.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { MergeableSessionStore, SessionStore } from '../interfaces/session-store.interface.js';
import { JsonSerializer } from '../serializers/json.serializer.js';
import { SessionCodec } from '../session/session-codec.js';

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
    const mergeable = store as Partial<MergeableSessionStore>;
    if (typeof mergeable.readFields === 'function' && typeof mergeable.patch === 'function') {
      const fields = await mergeable.readFields(id, 0);
      return fields && fields.size > 0 ? codec.decodeFields(fields).data : null;
    }
    const bytes = await store.read(id, 0);
    return bytes && bytes.length > 0 ? codec.decodeBlob(bytes).data : null;
  } catch {
    return null;
  }
}
