/**
 * One encoding for a record kept as fields (per-key session records): a JSON object of base64
 * values. Stores keep it as a single value, so plain `read()` (and Redis `GET`) still see the
 * record, and Redis can merge fields inside a script (Lua's cjson reads it).
 */
export function encodeFieldRecord(fields: ReadonlyMap<string, Uint8Array>): Buffer {
  const object: Record<string, string> = {};
  for (const [field, value] of fields) object[field] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  return Buffer.from(JSON.stringify(object), 'utf8');
}

/** The fields, or `null` for bytes that are not a field record. */
export function decodeFieldRecord(bytes: Uint8Array | null | undefined): Map<string, Uint8Array> | null {
  if (!bytes || bytes.length === 0 || bytes[0] !== 0x7b /* { */) return null;
  let object: unknown;
  try {
    object = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return null;
  const fields = new Map<string, Uint8Array>();
  for (const [field, value] of Object.entries(object)) {
    if (typeof value !== 'string') return null;
    fields.set(field, Buffer.from(value, 'base64'));
  }
  return fields;
}
