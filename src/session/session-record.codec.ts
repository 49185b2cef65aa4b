/**
 * The stored record: a fixed header with the server-side metadata, then the serialized user
 * data. Metadata never enters the user's object (starsessions' `__metadata__` key did), and it is
 * inside whatever the encryptor protects.
 *
 *   byte 0      format version (1)
 *   bytes 1-8   created, ms since epoch (float64 BE)
 *   bytes 9-16  last access, ms since epoch (float64 BE)
 *   bytes 17-   serializer output
 */
const VERSION = 1;
const HEADER_SIZE = 17;

export interface SessionMetadata {
  readonly created: number;
  readonly accessed: number;
}

export interface DecodedRecord extends SessionMetadata {
  readonly payload: Uint8Array;
}

export function encodeRecord(meta: SessionMetadata, payload: Uint8Array): Uint8Array {
  const record = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  record[0] = VERSION;
  record.writeDoubleBE(meta.created, 1);
  record.writeDoubleBE(meta.accessed, 9);
  record.set(payload, HEADER_SIZE);
  return record;
}

/** Throws on anything that is not a record of this format. */
export function decodeRecord(bytes: Uint8Array): DecodedRecord {
  if (bytes.length < HEADER_SIZE || bytes[0] !== VERSION) throw new Error('not a session record');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const created = view.readDoubleBE(1);
  const accessed = view.readDoubleBE(9);
  if (!Number.isFinite(created) || !Number.isFinite(accessed)) throw new Error('corrupt session metadata');
  return { created, accessed, payload: view.subarray(HEADER_SIZE) };
}
