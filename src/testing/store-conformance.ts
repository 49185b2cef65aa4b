import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SessionStore, UpdatableSessionStore } from '../interfaces/session-store.interface.js';

export interface StoreConformanceOptions {
  /**
   * The store keeps the data in the cookie (`clientSide: true`): reads use the ID that `write`
   * returned, and the cases that need a server-side record (remove, touch, update of a removed
   * record) are left out. Default `false`; a store that says `clientSide: true` without this
   * option fails with a message asking for it.
   */
  clientSide?: boolean;
  /** Leave out the expiry cases, for stores that never expire records. Default `false`. */
  skipTtl?: boolean;
  /**
   * `lifetime` passed to the store, in seconds. Default 3600. With `0` (browser-session
   * cookies) the cases pass the TTL the module would: its fallback (`browserSessionTtl`).
   */
  lifetime?: number;
  /** TTL in seconds the cases pass with `lifetime: 0`. Default 3600. */
  browserSessionTtl?: number;
  /**
   * The module runs with `rolling: true`: read-only requests touch the record (stores with
   * `touch`). Adds a case that repeated touches keep a record alive past several TTLs.
   */
  rolling?: boolean;
  /** Size of the large-payload case in bytes. Default 65536 (2048 for client-side stores). */
  largePayloadSize?: number;
  /** Prefix of the generated session IDs, to tell them apart in a shared backend. Default `'conformance-'`. */
  idPrefix?: string;
  /** Runs after each case, for example to close a connection the factory opened. */
  teardown?: (store: SessionStore) => void | Promise<void>;
}

export interface StoreConformanceCase {
  name: string;
  run: () => Promise<void>;
}

type StoreFactory = () => SessionStore | Promise<SessionStore>;

interface CaseContext {
  store: SessionStore;
  lifetime: number;
  /** The TTL a write gets when the case does not choose one: what the module would pass. */
  ttl: number;
  newId: () => string;
  /** IDs a case wrote, removed after it (server-side stores) so a shared backend stays clean. */
  written: Set<string>;
}

interface CaseDefinition {
  name: string;
  serverSideOnly?: boolean;
  needsTtl?: boolean;
  rollingOnly?: boolean;
  test: (ctx: CaseContext) => Promise<void>;
}

// Expiry cases wait for ttl=1 plus this margin; stores with a coarse clock may need it.
const EXPIRY_WAIT_MS = 1200;

/**
 * The cases every `SessionStore` must pass, framework-agnostic (node:assert), for store authors.
 * Each case gets a fresh store from `factory`. Run them with any test runner, e.g. Jest:
 *
 * ```ts
 * import { storeConformanceCases } from '@sessionkit/nest/testing';
 *
 * describe('MyStore conformance', () => {
 *   for (const c of storeConformanceCases(() => new MyStore())) it(c.name, c.run);
 * });
 * ```
 *
 * or all at once with `await runStoreConformance(() => new MyStore())`.
 */
export function storeConformanceCases(factory: StoreFactory, options: StoreConformanceOptions = {}): StoreConformanceCase[] {
  const clientSide = options.clientSide ?? false;
  const lifetime = options.lifetime ?? 3600;
  const idPrefix = options.idPrefix ?? 'conformance-';
  const largeSize = options.largePayloadSize ?? (clientSide ? 2048 : 65536);

  const run = (test: CaseDefinition['test']) => async () => {
    const store = await factory();
    if ((store as Partial<{ clientSide: boolean }>).clientSide === true && !clientSide) {
      assert.fail('The store reports clientSide: true; pass { clientSide: true } to the conformance suite.');
    }
    const ctx: CaseContext = {
      store,
      lifetime,
      ttl: lifetime > 0 ? lifetime : (options.browserSessionTtl ?? 3600),
      newId: () => idPrefix + randomBytes(16).toString('base64url'),
      written: new Set(),
    };
    try {
      await test(ctx);
    } finally {
      if (!clientSide) await Promise.allSettled([...ctx.written].map((id) => store.remove(id)));
      await options.teardown?.(store);
    }
  };

  return definitions(largeSize)
    .filter((d) => !(clientSide && d.serverSideOnly) && !(options.skipTtl && d.needsTtl) && !(d.rollingOnly && !options.rolling))
    .map((d) => ({ name: d.name, run: run(d.test) }));
}

/** Runs every case in order; throws an `AggregateError` listing the failed cases. */
export async function runStoreConformance(factory: StoreFactory, options?: StoreConformanceOptions): Promise<void> {
  const cases = storeConformanceCases(factory, options);
  const failures: Error[] = [];
  for (const c of cases) {
    try {
      await c.run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failures.push(new Error(`${c.name}: ${reason}`, { cause: error }));
    }
  }
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `${failures.length} of ${cases.length} store conformance cases failed:\n` + failures.map((f) => `  - ${f.message}`).join('\n'),
    );
  }
}

function definitions(largeSize: number): CaseDefinition[] {
  return [
    {
      name: 'write then read returns the same bytes',
      test: async (ctx) => {
        const data = bytes('{"user":42}');
        const id = await write(ctx, ctx.newId(), data);
        assert.equal(typeof id, 'string', 'write must return the ID (a string)');
        assert.ok(id.length > 0, 'write must return a non-empty ID');
        assertBytes(await ctx.store.read(id, ctx.lifetime), data);
      },
    },
    {
      name: 'reading an unknown ID gives null (or an empty payload)',
      test: async (ctx) => assertMissing(await ctx.store.read(ctx.newId(), ctx.lifetime)),
    },
    {
      name: 'remove then read gives null',
      serverSideOnly: true,
      test: async (ctx) => {
        const id = await write(ctx, ctx.newId(), bytes('x'));
        await ctx.store.remove(id);
        assertMissing(await ctx.store.read(id, ctx.lifetime));
      },
    },
    {
      name: 'removing an unknown ID is not an error',
      test: async (ctx) => {
        await ctx.store.remove(ctx.newId());
      },
    },
    {
      name: 'writing an existing ID replaces the record',
      test: async (ctx) => {
        const first = await write(ctx, ctx.newId(), bytes('first, and longer than the second'));
        const second = await write(ctx, first, bytes('second'));
        assertBytes(await ctx.store.read(second, ctx.lifetime), bytes('second'));
      },
    },
    {
      name: 'a record written with ttl=1 is gone after its TTL',
      needsTtl: true,
      test: async (ctx) => {
        const id = await write(ctx, ctx.newId(), bytes('short-lived'), 1);
        await sleep(EXPIRY_WAIT_MS);
        assertMissing(await ctx.store.read(id, ctx.lifetime));
      },
    },
    {
      name: 'touch (when implemented) extends a record past its original TTL',
      serverSideOnly: true,
      needsTtl: true,
      test: async (ctx) => {
        if (!ctx.store.touch) return;
        const id = await write(ctx, ctx.newId(), bytes('rolling'), 1);
        await sleep(400);
        await ctx.store.touch(id, 5);
        await sleep(EXPIRY_WAIT_MS - 400);
        assertBytes(await ctx.store.read(id, ctx.lifetime), bytes('rolling'), 'touched record expired at its original TTL');
      },
    },
    {
      name: 'rolling: repeated touches (when implemented) keep a record alive past several TTLs',
      serverSideOnly: true,
      needsTtl: true,
      rollingOnly: true,
      test: async (ctx) => {
        if (!ctx.store.touch) return;
        const id = await write(ctx, ctx.newId(), bytes('active'), 1);
        for (let i = 0; i < 4; i++) {
          await sleep(500);
          await ctx.store.touch(id, 1);
        }
        assertBytes(await ctx.store.read(id, ctx.lifetime), bytes('active'), 'a record touched every 0.5 s expired');
        await sleep(EXPIRY_WAIT_MS);
        assertMissing(await ctx.store.read(id, ctx.lifetime));
      },
    },
    {
      name: 'touch (when implemented) never recreates a missing record',
      serverSideOnly: true,
      test: async (ctx) => {
        if (!ctx.store.touch) return;
        const id = await write(ctx, ctx.newId(), bytes('x'));
        await ctx.store.remove(id);
        await ctx.store.touch(id, 5);
        assertMissing(await ctx.store.read(id, ctx.lifetime), 'touch recreated a removed record');
      },
    },
    {
      name: 'update (when implemented) replaces an existing record',
      test: async (ctx) => {
        if (!isUpdatable(ctx.store)) return;
        const id = await write(ctx, ctx.newId(), bytes('before'));
        const updated = await ctx.store.update(id, bytes('after'), ctx.lifetime, ctx.ttl);
        assert.equal(typeof updated, 'string', 'update of an existing record must return the ID');
        assertBytes(await ctx.store.read(updated as string, ctx.lifetime), bytes('after'));
      },
    },
    {
      name: 'update (when implemented) returns null and does not recreate a removed record',
      serverSideOnly: true,
      test: async (ctx) => {
        if (!isUpdatable(ctx.store)) return;
        const id = await write(ctx, ctx.newId(), bytes('before'));
        await ctx.store.remove(id);
        assert.equal(
          await ctx.store.update(id, bytes('after'), ctx.lifetime, ctx.ttl),
          null,
          'update of a removed record must return null',
        );
        assertMissing(await ctx.store.read(id, ctx.lifetime), 'update recreated a removed record');
      },
    },
    {
      name: `a ${largeSize}-byte random payload round-trips byte-exact`,
      test: async (ctx) => {
        const data = randomBytes(largeSize);
        const id = await write(ctx, ctx.newId(), data);
        assertBytes(await ctx.store.read(id, ctx.lifetime), data);
      },
    },
    {
      name: '50 concurrent writes to different IDs all read back',
      test: async (ctx) => {
        const payloads = Array.from({ length: 50 }, (_, i) => bytes(`payload ${i} ${'#'.repeat(i)}`));
        const ids = await Promise.all(payloads.map((data) => write(ctx, ctx.newId(), data)));
        const reads = await Promise.all(ids.map((id) => ctx.store.read(id, ctx.lifetime)));
        reads.forEach((got, i) => assertBytes(got, payloads[i]!, `record ${i} read back wrong`));
      },
    },
    {
      name: 'every byte value (0x00 to 0xff) survives',
      test: async (ctx) => {
        const data = Uint8Array.from({ length: 512 }, (_, i) => (i < 256 ? i : 511 - i));
        const id = await write(ctx, ctx.newId(), data);
        assertBytes(await ctx.store.read(id, ctx.lifetime), data);
      },
    },
  ];
}

async function write(ctx: CaseContext, id: string, data: Uint8Array, ttl = ctx.ttl): Promise<string> {
  const returned = await ctx.store.write(id, data, ctx.lifetime, ttl);
  ctx.written.add(id).add(returned);
  return returned;
}

function isUpdatable(store: SessionStore): store is UpdatableSessionStore {
  return typeof (store as Partial<UpdatableSessionStore>).update === 'function';
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

// Compares without letting assert print a diff of kilobytes of bytes.
function assertBytes(actual: Uint8Array | null, expected: Uint8Array, message = 'read returned other bytes than written'): void {
  assert.ok(actual instanceof Uint8Array, `${message}: expected ${expected.length} bytes, got ${String(actual)}`);
  const same = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected);
  assert.ok(same, `${message}: expected ${expected.length} bytes, got ${actual.length} that differ`);
}

function assertMissing(actual: Uint8Array | null, message = 'expected no record'): void {
  assert.ok(actual === null || actual.length === 0, `${message}: got ${actual?.length} bytes`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
