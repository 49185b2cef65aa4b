import type { Encryptor } from '../interfaces/encryptor.interface.js';
import type { Serializer } from '../interfaces/serializer.interface.js';
import type { SessionData } from '../interfaces/session-data.interface.js';
import type { SessionFieldPatch } from '../interfaces/session-store.interface.js';

/** Server-side facts about a session, kept next to (never inside) the user's data. */
export interface SessionMeta {
  /** The user the session is bound to (per-user index). */
  readonly userId?: string;
  readonly userAgent?: string;
  /** Flash messages for the next request, by type. */
  readonly flash?: Readonly<Record<string, readonly unknown[]>>;
}

/** What a record held when it was loaded, to tell later what changed. */
export type Snapshot =
  | { readonly kind: 'blob'; readonly payload: Uint8Array; readonly meta: string }
  | { readonly kind: 'fields'; readonly fields: ReadonlyMap<string, Uint8Array>; readonly meta: string };

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
const META_FIELD = 'm';
const DATA_FIELD = 'd:';

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

function metaJson(meta: SessionMeta): string {
  const compact: Record<string, unknown> = {};
  if (meta.userId !== undefined) compact.u = meta.userId;
  if (meta.userAgent !== undefined) compact.a = meta.userAgent;
  if (meta.flash !== undefined && Object.keys(meta.flash).length > 0) compact.f = meta.flash;
  return Object.keys(compact).length === 0 ? '' : JSON.stringify(compact);
}

function parseMeta(json: string): SessionMeta {
  if (json === '') return {};
  const raw = JSON.parse(json) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('corrupt session metadata');
  const flash = raw.f;
  if (flash !== undefined && (typeof flash !== 'object' || flash === null || Array.isArray(flash) || hasOwn(flash, '__proto__'))) {
    throw new Error('corrupt flash');
  }
  return {
    userId: typeof raw.u === 'string' ? raw.u : undefined,
    userAgent: typeof raw.a === 'string' ? raw.a : undefined,
    flash: flash as SessionMeta['flash'],
  };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Whether the session holds anything worth keeping. Keys set to `undefined` do not count. */
export function isEmptySession(data: SessionData, meta: SessionMeta): boolean {
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
  constructor(
    private readonly serializer: Serializer,
    private readonly encryptor: Encryptor | undefined,
  ) {}

  // ---- blob layout ------------------------------------------------------------------------

  /** Throws on anything that is not a record of ours that decrypts and deserializes. */
  decodeBlob(stored: Uint8Array): DecodedSession {
    const bytes = Buffer.from(this.open(stored));
    if (bytes.length < BLOB_HEADER || bytes[0] !== VERSION) throw new Error('not a session record');
    const metaLength = bytes.readUInt32BE(1 + TIMES_SIZE);
    if (BLOB_HEADER + metaLength > bytes.length) throw new Error('corrupt session record');
    const { created, accessed } = this.times(bytes, 1);
    const meta = bytes.toString('utf8', BLOB_HEADER, BLOB_HEADER + metaLength);
    const payload = bytes.subarray(BLOB_HEADER + metaLength);
    const data = this.serializer.deserialize(payload) as SessionData;
    return { data, created, accessed, meta: parseMeta(meta), snapshot: { kind: 'blob', payload, meta } };
  }

  /** The serialized data and whether it (or the metadata) differs from the snapshot. */
  diffBlob(data: SessionData, meta: SessionMeta, snapshot: Snapshot | undefined) {
    const payload = this.serializer.serialize(data);
    const json = metaJson(meta);
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
    const sealedMeta = fields.get(META_FIELD);
    if (!sealedMeta) throw new Error('session record without metadata');
    const metaBytes = Buffer.from(this.open(sealedMeta));
    if (metaBytes.length < TIMES_SIZE) throw new Error('corrupt session metadata');
    const { created, accessed } = this.times(metaBytes, 0);
    const meta = metaBytes.toString('utf8', TIMES_SIZE);
    const data: SessionData = {};
    const plain = new Map<string, Uint8Array>();
    for (const [field, sealed] of fields) {
      if (!field.startsWith(DATA_FIELD)) continue;
      const key = field.slice(DATA_FIELD.length);
      const bytes = this.open(sealed);
      const entry = this.serializer.deserialize(bytes);
      // Each field holds a one-key object naming its own key; anything else is tampering.
      if (!hasOwn(entry, key) || Object.keys(entry).length !== 1) throw new Error('corrupt session field');
      data[key] = entry[key];
      plain.set(key, bytes);
    }
    return { data, created, accessed, meta: parseMeta(meta), snapshot: { kind: 'fields', fields: plain, meta } };
  }

  /**
   * The patch that turns the snapshot into the current data: only changed keys are
   * re-serialized into it. `full` writes every key (a new record).
   */
  diffFields(data: SessionData, meta: SessionMeta, snapshot: Snapshot | undefined, full: boolean) {
    const before = snapshot?.kind === 'fields' ? snapshot.fields : new Map<string, Uint8Array>();
    const after = new Map<string, Uint8Array>();
    const changedKeys: string[] = [];
    for (const key of Object.keys(data)) {
      if (data[key] === undefined) continue;
      const bytes = this.serializer.serialize({ [key]: data[key] });
      after.set(key, bytes);
      if (full || !sameBytes(before.get(key), bytes)) changedKeys.push(key);
    }
    const removedKeys = full ? [] : [...before.keys()].filter((key) => !after.has(key));
    const json = metaJson(meta);
    const metaChanged = full || snapshot?.meta !== json;
    const changed = metaChanged || changedKeys.length > 0 || removedKeys.length > 0;
    return { changed, changedKeys, removedKeys, snapshot: { kind: 'fields', fields: after, meta: json } as Snapshot };
  }

  encodePatch(
    created: number,
    accessed: number,
    snapshot: Snapshot & { kind: 'fields' },
    changedKeys: readonly string[],
    removedKeys: readonly string[],
  ): SessionFieldPatch {
    const set = new Map<string, Uint8Array>();
    const meta = Buffer.from(snapshot.meta, 'utf8');
    const metaBytes = Buffer.allocUnsafe(TIMES_SIZE + meta.length);
    metaBytes.writeDoubleBE(created, 0);
    metaBytes.writeDoubleBE(accessed, 8);
    metaBytes.set(meta, TIMES_SIZE);
    set.set(META_FIELD, this.seal(metaBytes));
    for (const key of changedKeys) set.set(DATA_FIELD + key, this.seal(snapshot.fields.get(key)!));
    return { set, unset: removedKeys.map((key) => DATA_FIELD + key) };
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

  private open(bytes: Uint8Array): Uint8Array {
    return this.encryptor ? this.encryptor.decrypt(bytes) : bytes;
  }
}
