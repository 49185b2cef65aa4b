import type { Encryptor } from '../interfaces/encryptor.interface.js';
import type { Serializer } from '../interfaces/serializer.interface.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { SessionFieldPatch } from '../interfaces/session-store.interface.js';
import { JsonSerializer } from '../serializers/json.serializer.js';
import { BoundedCache } from '../cache/bounded-cache.js';
import { plainSessionData } from '../compat/express-session-api.js';
import { bufferView } from './buffer-view.js';
import { FieldNames, FLASH_FIELD, PLAIN_DATA_FIELD, TIMES_FIELD, USER_FIELD } from './field-record.js';

/** Server-side facts about a session, kept next to (never inside) the user's data. */
export interface SessionMeta {
  /** The user the session is bound to (per-user index). */
  readonly userId?: string;
  readonly userAgent?: string;
  /** Flash messages for the next request, by type. */
  readonly flash?: Readonly<Record<string, readonly unknown[]>>;
  /** This session's own lifetime in seconds (remember me), replacing the module's; 0: browser session. */
  readonly lifetime?: number;
  /** The CSRF synchronizer secret: session metadata, never the user's data. */
  readonly csrfSecret?: string;
}

/** What a record held when it was loaded, to tell later what changed. */
export type Snapshot = (
  | { readonly kind: 'blob'; readonly payload: Uint8Array; readonly meta: string }
  | {
      readonly kind: 'fields';
      readonly fields: ReadonlyMap<string, Uint8Array>;
      /** The values as decoded: a primitive still identical to its loaded value needs no re-serializing. */
      readonly values?: ReadonlyMap<string, unknown>;
      /**
       * The stored field name of each key, where it is not the one `FieldNames` gives now (a
       * hashed name under a retired secret, or a plain one written before an encryptor was set).
       */
      readonly storedNames?: ReadonlyMap<string, string>;
      /** JSON of the user binding and of the flash messages ('' when none): fields of their own. */
      readonly user: string;
      readonly flash: string;
    }
) & {
  /** Some of it was encrypted with a key other than the first: rewrite it all on the next save. */
  readonly rekey?: boolean;
};

export interface DecodedSession {
  readonly data: SessionData;
  readonly created: number;
  readonly accessed: number;
  readonly meta: SessionMeta;
  readonly snapshot: Snapshot;
}

const VERSION = 1;
const TIMES_SIZE = 16;
/** Blob: version, created, accessed (float64 BE), meta length (uint32 BE), meta JSON, payload. */
const BLOB_HEADER = 1 + TIMES_SIZE + 4;
const NONE: readonly string[] = [];

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/**
 * The user binding and the session's own settings as stored ({ u, a, l, c }: user, agent,
 * lifetime, CSRF secret), or undefined when there are none. They change rarely, so they share
 * one field of the per-key layout.
 */
function userPart(meta: SessionMeta): Record<string, unknown> | undefined {
  const { userId, userAgent, lifetime, csrfSecret } = meta;
  if (userId === undefined && lifetime === undefined && csrfSecret === undefined) return undefined;
  const part: Record<string, unknown> = {};
  if (userId !== undefined) part.u = userId;
  if (userAgent !== undefined && userId !== undefined) part.a = userAgent;
  if (lifetime !== undefined) part.l = lifetime;
  if (csrfSecret !== undefined) part.c = csrfSecret;
  return part;
}

/** The flash messages as stored ({ f }), or undefined when there are none. */
function flashPart(meta: SessionMeta): Record<string, unknown> | undefined {
  return meta.flash !== undefined && Object.keys(meta.flash).length > 0 ? { f: meta.flash } : undefined;
}

const jsonOf = (part: Record<string, unknown> | undefined): string => (part === undefined ? '' : JSON.stringify(part));

/** The blob layout keeps all metadata in one JSON object. */
function metaJson(meta: SessionMeta): string {
  const user = userPart(meta);
  const flash = flashPart(meta);
  return user === undefined && flash === undefined ? '' : JSON.stringify({ ...user, ...flash });
}

function parseMeta(json: string): SessionMeta {
  return json === '' ? {} : metaFrom(JSON.parse(json));
}

function metaFrom(raw: unknown): SessionMeta {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('corrupt session metadata');
  const { u, a, f: flash, l, c } = raw as Record<string, unknown>;
  if (flash !== undefined && (typeof flash !== 'object' || flash === null || Array.isArray(flash) || hasOwn(flash, '__proto__'))) {
    throw new Error('corrupt flash');
  }
  return {
    userId: typeof u === 'string' ? u : undefined,
    userAgent: typeof a === 'string' ? a : undefined,
    flash: flash as SessionMeta['flash'],
    lifetime: typeof l === 'number' && Number.isFinite(l) && l >= 0 ? l : undefined,
    csrfSecret: typeof c === 'string' ? c : undefined,
  };
}

const OPENED_CACHE_ENTRIES = 10_000;
const OPENED_CACHE_BYTES = 4 * 1024 * 1024;


/** Objects may have changed inside (nested mutation); a primitive identical to its loaded value has not. */
const isPrimitive = (value: unknown): boolean => typeof value !== 'object' || value === null;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Whether the session holds anything worth keeping. Keys set to `undefined` do not count. */
export function isEmptySession(data: SessionData, meta: SessionMeta): boolean {
  // A CSRF secret is kept for an anonymous visitor too: the form it protects is posted later.
  if (meta.userId !== undefined || meta.csrfSecret !== undefined) return false;
  if (meta.flash && Object.keys(meta.flash).length > 0) return false;
  for (const key in data) if (data[key] !== undefined) return false;
  return true;
}

/**
 * Turns sessions into stored bytes and back: the serializer for the data, the envelope for the
 * metadata, the encryptor around both. Two layouts: one blob per session (any store), or one
 * field per top-level key (stores that can patch fields, so concurrent changes to different
 * keys merge instead of overwriting each other).
 */
export class SessionCodec {
  private readonly openedBlobs = new BoundedCache<{ data: Uint8Array; rekey: boolean }>(
    OPENED_CACHE_ENTRIES,
    OPENED_CACHE_BYTES,
    (opened) => opened.data.length,
  );

  private readonly fieldNames: FieldNames;

  /**
   * `fieldNameSecret` keys the hashed field names of the per-key layout; it is used only with
   * an encryptor (without one the values are readable anyway). Decoding does not need it.
   */
  constructor(
    private readonly serializer: Serializer,
    private readonly encryptor: Encryptor | undefined,
    fieldNameSecret?: string,
  ) {
    this.fieldNames = new FieldNames(encryptor && fieldNameSecret !== undefined ? fieldNameSecret : undefined);
  }

  // ---- blob layout ------------------------------------------------------------------------

  /**
   * Throws on anything that is not a record of ours that decrypts and deserializes. `cacheKey`
   * names the stored bytes (a cookie-store payload, sent again on every request): what it
   * decrypted to is kept, so a returning client's cookie is decrypted once.
   */
  decodeBlob(stored: Uint8Array, cacheKey?: string): DecodedSession {
    let opened = cacheKey === undefined ? undefined : this.openedBlobs.get(cacheKey);
    if (opened === undefined) {
      let rekey = false;
      const data = this.open(stored, () => (rekey = true));
      opened = { data, rekey };
      if (cacheKey !== undefined && this.encryptor) this.openedBlobs.set(cacheKey, opened);
    }
    const bytes = bufferView(opened.data);
    if (bytes.length < BLOB_HEADER || bytes[0] !== VERSION) throw new Error('not a session record');
    const metaLength = bytes.readUInt32BE(1 + TIMES_SIZE);
    if (BLOB_HEADER + metaLength > bytes.length) throw new Error('corrupt session record');
    const { created, accessed } = this.times(bytes, 1);
    const meta = bytes.toString('utf8', BLOB_HEADER, BLOB_HEADER + metaLength);
    const payload = bytes.subarray(BLOB_HEADER + metaLength);
    const data = this.serializer.deserialize(payload) as SessionData;
    return { data, created, accessed, meta: parseMeta(meta), snapshot: { kind: 'blob', payload, meta, rekey: opened.rekey } };
  }

  /** The serialized data and whether it (or the metadata) differs from the snapshot. */
  diffBlob(data: SessionData, meta: SessionMeta, snapshot: Snapshot | undefined) {
    // The data object carries express-session's API on its prototype; serializers get its keys alone.
    const payload = this.serializer.serialize(plainSessionData(data));
    const json = metaJson(meta);
    // A blob is re-encrypted whole on every write, so a rotated key needs nothing special here.
    const changed = snapshot?.kind !== 'blob' || snapshot.meta !== json || !sameBytes(snapshot.payload, payload);
    return { changed, payload, snapshot: { kind: 'blob', payload, meta: json } as Snapshot };
  }

  encodeBlob(created: number, accessed: number, snapshot: Snapshot & { kind: 'blob' }): Uint8Array {
    const meta = Buffer.from(snapshot.meta, 'utf8');
    const record = Buffer.allocUnsafe(BLOB_HEADER + meta.length + snapshot.payload.length);
    record[0] = VERSION;
    record.writeDoubleBE(created, 1);
    record.writeDoubleBE(accessed, 9);
    record.writeUInt32BE(meta.length, 1 + TIMES_SIZE);
    record.set(meta, BLOB_HEADER);
    record.set(snapshot.payload, BLOB_HEADER + meta.length);
    return this.seal(record);
  }

  // ---- field layout -----------------------------------------------------------------------

  decodeFields(fields: ReadonlyMap<string, Uint8Array>): DecodedSession {
    // Runs on every request that reads a session: no closures, one pass over the fields.
    this.retiredKeySeen = false;
    const sealedTimes = fields.get(TIMES_FIELD);
    if (!sealedTimes) throw new Error('session record without metadata');
    const times = bufferView(this.openField(sealedTimes));
    if (times.length !== TIMES_SIZE) throw new Error('corrupt session metadata');
    const { created, accessed } = this.times(times, 0);
    const user = this.fieldText(fields.get(USER_FIELD));
    const flash = this.fieldText(fields.get(FLASH_FIELD));
    const keys: string[] = [];
    const parts: Uint8Array[] = [];
    const plain = new Map<string, Uint8Array>();
    let hashed: Map<string, Uint8Array> | undefined;
    for (const [field, sealed] of fields) {
      const key = FieldNames.plainKey(field);
      if (key !== undefined) {
        const bytes = this.openField(sealed);
        keys.push(key);
        parts.push(bytes);
        plain.set(key, bytes);
      } else if (FieldNames.isDataField(field)) {
        (hashed ??= new Map()).set(field, this.openField(sealed));
      }
    }
    const data = this.deserializeFields(keys, parts);
    // Each key's stored field name, where it is not the one written today.
    let storedNames: Map<string, string> | undefined;
    if (this.fieldNames.hashed && keys.length > 0) storedNames = new Map(keys.map((key) => [key, PLAIN_DATA_FIELD + key]));
    if (hashed) for (const [field, bytes] of hashed) {
      // A hashed name says nothing of its key: the key is the one the (authenticated) value names.
      const entry = this.serializer.deserialize(bytes);
      const entryKeys = Object.keys(entry);
      const key = entryKeys[0];
      if (key === undefined || entryKeys.length !== 1 || hasOwn(data, key)) throw new Error('corrupt session field');
      data[key] = entry[key];
      keys.push(key);
      plain.set(key, bytes);
      if (field !== this.fieldNames.of(key)) (storedNames ??= new Map()).set(key, field);
    }
    // Plain names, or names hashed under a retired secret: rewritten (and the old ones removed) on the next save.
    const renamed = storedNames !== undefined && storedNames.size > 0;
    const rekey = this.retiredKeySeen || renamed;
    const values = new Map<string, unknown>();
    for (const key of keys) values.set(key, data[key]);
    const meta = user === '' && flash === '' ? {} : metaFrom({ ...(user && JSON.parse(user)), ...(flash && JSON.parse(flash)) });
    return { data, created, accessed, meta, snapshot: { kind: 'fields', fields: plain, values, storedNames: renamed ? storedNames : undefined, user, flash, rekey } };
  }

  /** Set by `openField` when a key other than the first decrypted: read once `decodeFields` is done. */
  private retiredKeySeen = false;

  private openField(sealed: Uint8Array): Uint8Array {
    return this.open(sealed, this.noteRetiredKey);
  }

  private readonly noteRetiredKey = (): void => {
    this.retiredKeySeen = true;
  };

  private fieldText(sealed: Uint8Array | undefined): string {
    return sealed ? bufferView(this.openField(sealed)).toString('utf8') : '';
  }

  /**
   * Each field holds a one-key object naming its own key; anything else is tampering. The JSON
   * serializer parses all fields as one object (one parse instead of one per key).
   */
  private deserializeFields(keys: readonly string[], parts: readonly Uint8Array[]): SessionData {
    const serializer = this.serializer;
    if (serializer instanceof JsonSerializer) {
      const data = serializer.deserializeJoined(parts) as SessionData;
      // Each part named its own key once: as many own keys as parts, each the one expected.
      let count = 0;
      for (const key in data) if (hasOwn(data, key)) count++;
      if (count !== keys.length) throw new Error('corrupt session field');
      for (let i = 0; i < keys.length; i++) if (!hasOwn(data, keys[i]!)) throw new Error('corrupt session field');
      return data;
    }
    const data: SessionData = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const entry = serializer.deserialize(parts[i]!);
      if (!hasOwn(entry, key) || Object.keys(entry).length !== 1) throw new Error('corrupt session field');
      data[key] = entry[key];
    }
    return data;
  }

  /**
   * The patch that turns the snapshot into the current data: only changed keys are
   * re-serialized into it; the user binding and flash only when they changed.
   */
  diffFields(data: SessionData, meta: SessionMeta, snapshot: Snapshot | undefined, isNew: boolean) {
    const before = snapshot?.kind === 'fields' && !isNew ? snapshot : undefined;
    const after = new Map<string, Uint8Array>();
    const differing: string[] = [];
    // Keys of `after` that the snapshot holds too: fewer than it has means some were removed.
    let kept = 0;
    for (const key of Object.keys(data)) {
      const value = data[key];
      if (value === undefined) continue;
      const loaded = before?.fields.get(key);
      if (loaded) kept++;
      // Objects may have changed inside (nested mutation) and are re-serialized; a primitive
      // that is the very value that was loaded has the bytes it was loaded from.
      if (loaded && isPrimitive(value) && before!.values?.has(key) && Object.is(before!.values.get(key), value)) {
        after.set(key, loaded);
        continue;
      }
      const bytes = this.serializer.serialize({ [key]: value });
      after.set(key, bytes);
      if (!sameBytes(loaded, bytes)) differing.push(key);
    }
    const removedKeys = before && kept < before.fields.size ? [...before.fields.keys()].filter((key) => !after.has(key)) : [];
    const user = jsonOf(userPart(meta));
    const flash = jsonOf(flashPart(meta));
    const userDiffers = user !== (before?.user ?? '');
    const flashDiffers = flash !== (before?.flash ?? '');
    const changed = isNew || userDiffers || flashDiffers || differing.length > 0 || removedKeys.length > 0;
    if (!changed) {
      // Most requests change nothing: the snapshot still describes the record.
      return { changed, changedKeys: differing, removedKeys, retiredFields: NONE, userChanged: false, flashChanged: false, snapshot: before as Snapshot };
    }
    const values = new Map<string, unknown>();
    for (const key of after.keys()) values.set(key, data[key]);
    // A record partly under a retired key is rewritten whole when it is next saved, so key
    // rotation leaves nothing behind (a read-only request still writes nothing).
    const rewrite = isNew || snapshot?.rekey === true;
    // Fields to delete: removed keys, and the old names of keys rewritten under today's names.
    const storedNames = before?.storedNames;
    const retiredFields = removedKeys.map((key) => storedNames?.get(key) ?? this.fieldNames.of(key));
    if (rewrite && storedNames) for (const [key, field] of storedNames) if (after.has(key)) retiredFields.push(field);
    return {
      changed,
      changedKeys: rewrite ? [...after.keys()] : differing,
      removedKeys,
      retiredFields,
      userChanged: rewrite || userDiffers,
      flashChanged: rewrite || flashDiffers,
      snapshot: { kind: 'fields', fields: after, values, user, flash } as Snapshot,
    };
  }

  encodePatch(
    created: number,
    accessed: number,
    snapshot: Snapshot & { kind: 'fields' },
    change: { changedKeys: readonly string[]; retiredFields: readonly string[]; userChanged: boolean; flashChanged: boolean },
  ): SessionFieldPatch {
    const set = new Map<string, Uint8Array>();
    const unset = [...change.retiredFields];
    const times = Buffer.allocUnsafe(TIMES_SIZE);
    times.writeDoubleBE(created, 0);
    times.writeDoubleBE(accessed, 8);
    set.set(TIMES_FIELD, this.seal(times));
    const text = (field: string, json: string, changed: boolean) => {
      if (!changed) return;
      if (json === '') unset.push(field);
      else set.set(field, this.seal(Buffer.from(json, 'utf8')));
    };
    text(USER_FIELD, snapshot.user, change.userChanged);
    text(FLASH_FIELD, snapshot.flash, change.flashChanged);
    for (const key of change.changedKeys) set.set(this.fieldNames.of(key), this.seal(snapshot.fields.get(key)!));
    return { set, unset };
  }

  // ---- shared -----------------------------------------------------------------------------

  private times(bytes: Buffer, offset: number) {
    const created = bytes.readDoubleBE(offset);
    const accessed = bytes.readDoubleBE(offset + 8);
    if (!Number.isFinite(created) || !Number.isFinite(accessed)) throw new Error('corrupt session metadata');
    return { created, accessed };
  }

  private seal(bytes: Uint8Array): Uint8Array {
    return this.encryptor ? this.encryptor.encrypt(bytes) : bytes;
  }

  /** Decrypts (when there is an encryptor); `retiredKey` is called when a key other than the first did. */
  private open(bytes: Uint8Array, retiredKey: () => void): Uint8Array {
    const encryptor = this.encryptor;
    if (!encryptor) return bytes;
    if (!encryptor.decryptWithKeyIndex) return encryptor.decrypt(bytes);
    const { data, keyIndex } = encryptor.decryptWithKeyIndex(bytes);
    if (keyIndex > 0) retiredKey();
    return data;
  }
}
