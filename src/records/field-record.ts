import { createHmac } from 'node:crypto';
import { bufferView } from './buffer-view.js';
import type { SessionFieldPatch } from '../interfaces/session-store.interface.js';

/**
 * The per-key record layout, in one place for everything that reads or writes it: the codec,
 * MemoryStore's merge, RedisStore's merge script and `readSessionData`.
 *
 * A session is a map of fields: one per top-level key of the data, plus the metadata (times,
 * user binding, flash messages) in fields of their own, so a commit sends only what changed and
 * concurrent requests that change different keys merge. MemoryStore and PostgresStore keep the
 * map as one value, a JSON object of base64 values, so their plain `read()` sees the record too.
 * RedisStore keeps it as a hash (field by field, so a change is an HSET of what changed); its
 * `read()` returns the same JSON form.
 */

/** Creation and last-access times (two float64 BE). */
export const TIMES_FIELD = 'm';
/** The user binding (`{ u, a }` JSON). */
export const USER_FIELD = 'u';
/** Flash messages for the next request (`{ f }` JSON). */
export const FLASH_FIELD = 'f';
/** Field of a top-level key named in the clear (no encryptor: the values are readable too). */
export const PLAIN_DATA_FIELD = 'd:';
/** Field of a top-level key whose name is a keyed hash (with an encryptor). */
export const HASHED_DATA_FIELD = 'k:';
const NAME_CACHE_LIMIT = 1024;

export function encodeFieldRecord(fields: ReadonlyMap<string, Uint8Array>): Buffer {
  return Buffer.from(encodeFieldRecordText(fields), 'utf8');
}

/** The record as its JSON text (what MemoryStore keeps: a string costs less than a Buffer). */
export function encodeFieldRecordText(fields: ReadonlyMap<string, Uint8Array>): string {
  const object: Record<string, string> = {};
  for (const [field, value] of fields) object[field] = bufferView(value).toString('base64');
  return JSON.stringify(object);
}

/** The fields, or `null` for bytes that are not a field record (a blob record, say). */
export function decodeFieldRecord(bytes: Uint8Array | null | undefined): Map<string, Uint8Array> | null {
  if (!bytes || bytes.length === 0 || bytes[0] !== 0x7b /* { */) return null;
  return decodeFieldRecordText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** `decodeFieldRecord` of the record's JSON text. */
export function decodeFieldRecordText(text: string): Map<string, Uint8Array> | null {
  if (text.charCodeAt(0) !== 0x7b /* { */) return null;
  let object: unknown;
  try {
    object = JSON.parse(text);
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

/** The record after a patch: a new map (the given one may be shared with readers). */
export function applyFieldPatch(fields: ReadonlyMap<string, Uint8Array>, patch: SessionFieldPatch): Map<string, Uint8Array> {
  const merged = new Map(fields);
  for (const [field, value] of patch.set) merged.set(field, value);
  for (const field of patch.unset) merged.delete(field);
  return merged;
}

/**
 * `applyFieldPatch` inside Redis on a record kept as a hash (RedisStore's layout): one field per
 * hash field, raw bytes, so a change costs Redis an HSET and an HDEL of what changed, never a
 * decode and re-encode of the whole record. An update of a record that no longer exists does
 * nothing (a logout is never undone); every write ends with the TTL.
 * KEYS[1]: the record. ARGV: mode ('c' | 'u'), ttl ms, number of fields set, field/value pairs,
 * fields to delete. Arguments go to HSET/HDEL in chunks: `unpack` is bounded by Lua's C stack.
 */
export const FIELD_HASH_PATCH_LUA = `
if ARGV[1] == 'u' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
else
  redis.call('DEL', KEYS[1])
end
local last = 3 + 2 * tonumber(ARGV[3])
local i = 4
while i <= last do
  local j = math.min(i + 999, last)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/**
 * The same patch on a record kept as one JSON string (RedisStore's layout before the hash, still
 * found in Redis until those sessions expire): decoded and re-encoded whole.
 * KEYS[1]: the record. ARGV: as above, values base64.
 */
export const FIELD_PATCH_LUA = `
local record = {}
if ARGV[1] == 'u' then
  local current = redis.call('GET', KEYS[1])
  if not current then return 0 end
  record = cjson.decode(current)
end
local n = tonumber(ARGV[3])
for i = 0, n - 1 do record[ARGV[4 + 2 * i]] = ARGV[5 + 2 * i] end
for i = 4 + 2 * n, #ARGV do record[ARGV[i]] = nil end
redis.call('SET', KEYS[1], cjson.encode(record), 'PX', ARGV[2])
return 1`;

/**
 * Names the store field of each top-level session key. With an encryptor the values are
 * ciphertext, and the names must not give the data away either (`d:isAdmin`,
 * `d:impersonatedBy`): they become an HMAC of the key under the first module secret. The key
 * itself travels inside the encrypted value, so decoding never needs the name (nor the secret).
 */
export class FieldNames {
  readonly hashed: boolean;
  private readonly cache = new Map<string, string>();

  constructor(private readonly secret: string | undefined) {
    this.hashed = secret !== undefined;
  }

  /** Whether a stored field holds a top-level key of the data (either naming). */
  static isDataField(field: string): boolean {
    return field.startsWith(PLAIN_DATA_FIELD) || field.startsWith(HASHED_DATA_FIELD);
  }

  /** The key a plain field names, or `undefined` for a hashed one (its key is in its value). */
  static plainKey(field: string): string | undefined {
    return field.startsWith(PLAIN_DATA_FIELD) ? field.slice(PLAIN_DATA_FIELD.length) : undefined;
  }

  of(key: string): string {
    if (this.secret === undefined) return PLAIN_DATA_FIELD + key;
    let name = this.cache.get(key);
    if (name === undefined) {
      name = HASHED_DATA_FIELD + createHmac('sha256', this.secret).update(`sessionkit field\0${key}`).digest('base64url').slice(0, 22);
      // Key names come from application code, so they are few; the bound only guards against
      // an app that uses user input as top-level keys.
      if (this.cache.size >= NAME_CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, name);
    }
    return name;
  }
}
