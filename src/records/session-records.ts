import type { StoreAdapter } from '../stores/store-adapter.js';
import type { DecodedSession, SessionCodec } from './session-codec.js';

/** Reads session records through the store adapter and decodes them with the codec. */
export class SessionRecords {
  constructor(
    private readonly store: StoreAdapter,
    readonly codec: SessionCodec,
  ) {}

  /**
   * The decoded record; `null` when the store does not know the ID; `undefined` when it does
   * not decode. A store failure rejects (`SessionStoreUnavailableError`).
   */
  async read(id: string): Promise<DecodedSession | null | undefined> {
    const stored = await this.store.read(id);
    if (stored === null) return null;
    try {
      if ('fields' in stored) return this.codec.decodeFields(stored.fields);
      return this.codec.decodeBlob(stored.bytes, this.store.clientSide ? id : undefined);
    } catch {
      // Never falls back to another decoder: undecodable data is no session.
      return undefined;
    }
  }
}
