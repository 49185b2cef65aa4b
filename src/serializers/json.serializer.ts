import { SessionSerializationError } from '../errors/session.errors.js';
import type { Serializer } from '../interfaces/serializer.interface.js';

// Keys that turn a later merge/assign of session data into prototype pollution.
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
// Cheap pre-filter for deserialize: a reserved key must spell one of these words in the raw text,
// unless it hides behind a \u escape (`"\u005f_proto__"` parses as "__proto__"), which
// serialize only emits for control characters and lone surrogates.
const MAYBE_RESERVED = /__proto__|constructor|prototype|\\u/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

// ignoreBOM keeps a BOM in the text so JSON.parse rejects it instead of it being dropped silently
// (which would also break the bytes-in = bytes-out guarantee); fatal rejects invalid UTF-8.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type PathSegment = string | number;

/**
 * The default serializer: JSON, hardened.
 *
 * - The payload is a plain object. Values JSON cannot hold faithfully (bigint, function, symbol,
 *   NaN/±Infinity, invalid Dates, Map, Set and other class instances without `toJSON`, circular
 *   references) throw a `SessionSerializationError` naming the key path, e.g.
 *   `session.cart.items[2]`, instead of being silently dropped or mangled.
 * - As in JSON, a property whose value is `undefined` is omitted, and `undefined` in an array
 *   becomes `null`: that is how "unset this key" is expected to work. Dates are stored as ISO
 *   strings (they come back as strings). Symbol-keyed properties are ignored, as JSON does.
 * - `__proto__`, `constructor` and `prototype` keys are refused at any depth, both ways.
 * - `serialize(deserialize(bytes))` is byte-identical to `bytes` for any bytes `serialize` made,
 *   so the module can detect changes by comparing bytes.
 */
export class JsonSerializer implements Serializer {
  serialize(data: Record<string, unknown>): Uint8Array {
    if (!isPlainObject(data)) {
      throw new SessionSerializationError(
        `Cannot serialize the session: the data must be a plain object, got ${describe(data)}.`,
      );
    }
    try {
      // A separate validation walk keeps the actual encoding in native JSON.stringify (fast) and
      // knows the path for the error message, which a replacer does not.
      visit(data, ['session'], new Set());
      return Buffer.from(JSON.stringify(data), 'utf8');
    } catch (cause) {
      if (cause instanceof SessionSerializationError) throw cause;
      // A throwing getter or toJSON, or nesting deep enough to overflow the stack.
      throw new SessionSerializationError(
        `Cannot serialize the session: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  deserialize(data: Uint8Array): Record<string, unknown> {
    return parseObject(() => decoder.decode(data));
  }

  /**
   * Several payloads that are each a JSON object, parsed as one object (what merging them would
   * give): one parse for a record kept as one field per key. Each part must be an object text
   * as `serialize` writes it (`{…}`, no padding).
   */
  deserializeJoined(parts: readonly Uint8Array[]): Record<string, unknown> {
    return parseObject(() => {
      // Joined as bytes and decoded once: a fatal TextDecoder call per part cost more than the parse.
      let length = 1;
      for (const part of parts) {
        if (part.length < 2 || part[0] !== 0x7b || part[part.length - 1] !== 0x7d) {
          throw new SessionSerializationError('Session payload part is not a JSON object.');
        }
        length += part.length - 1;
      }
      const joined = Buffer.allocUnsafe(Math.max(2, length));
      joined[0] = 0x7b;
      let at = 1;
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) joined[at++] = 0x2c; // ,
        const part = parts[i]!;
        joined.set(part.subarray(1, part.length - 1), at);
        at += part.length - 2;
      }
      joined[at] = 0x7d;
      return decoder.decode(joined);
    });
  }
}

function parseObject(readText: () => string): Record<string, unknown> {
  let value: unknown;
  try {
    const text = readText();
    // Hot path: almost no payload contains those words, so the reviver (several times slower
    // than a plain parse) runs only when one might be a key.
    value = MAYBE_RESERVED.test(text) ? JSON.parse(text, rejectReservedKeys) : JSON.parse(text);
  } catch (cause) {
    if (cause instanceof SessionSerializationError) throw cause;
    throw new SessionSerializationError('Session payload is not valid UTF-8 JSON.', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionSerializationError(`Session payload must be a JSON object, got ${describe(value)}.`);
  }
  return value as Record<string, unknown>;
}

function rejectReservedKeys(key: string, value: unknown): unknown {
  if (RESERVED_KEYS.has(key)) {
    throw new SessionSerializationError(`Session payload contains the reserved key "${key}".`);
  }
  return value;
}

/**
 * Throws on anything JSON.stringify would drop or mangle. `path` is a stack shared by the whole
 * walk (pushed and popped) so the happy path allocates no strings; `ancestors` holds only the
 * current branch, so an object referenced twice is fine and only a true cycle fails.
 */
function visit(value: unknown, path: PathSegment[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `is ${value}, which JSON stores as null`);
      return;
    case 'bigint':
      return fail(path, 'is a bigint; store it as a string');
    case 'symbol':
      return fail(path, 'is a symbol');
    case 'function':
      return fail(path, 'is a function');
  }
  if (value === null) return;
  const obj = value as Record<string, unknown>;
  if (ancestors.has(obj)) fail(path, 'is a circular reference');

  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) fail(path, 'is an invalid Date, which JSON stores as null');
    return;
  }
  ancestors.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      path.push(i);
      visit(obj[i], path, ancestors);
      path.pop();
    }
  } else if (typeof obj.toJSON === 'function') {
    // Check what JSON.stringify will actually write (a Buffer's {type, data}, for example).
    const key = path.length > 1 ? String(path[path.length - 1]) : '';
    visit((obj.toJSON as (key: string) => unknown)(key), path, ancestors);
  } else if (isPlainObject(obj)) {
    for (const key of Object.keys(obj)) {
      path.push(key);
      if (RESERVED_KEYS.has(key)) fail(path, 'is a reserved key (prototype pollution)');
      visit(obj[key], path, ancestors);
      path.pop();
    }
  } else {
    fail(path, `is ${describe(obj)}; JSON can only hold plain objects, arrays and Dates`);
  }
  ancestors.delete(obj);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name ? `a ${name}` : 'an object with a custom prototype';
}

function fail(path: readonly PathSegment[], problem: string): never {
  throw new SessionSerializationError(`Cannot serialize the session: ${formatPath(path)} ${problem}.`);
}

function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (out === '') out = segment;
    else out += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  }
  return out;
}
