/**
 * The commit plan on its own: from a session and a status, the store operations and the one
 * cookie decision, decided synchronously without touching the store.
 */
import { describe, expect, it } from '@jest/globals';
import { CommitPlanner, NOTHING_TO_COMMIT, isNothing, type CommitPlan } from '../../../src/commit/commit-plan.js';
import { runCommit } from '../../../src/commit/commit-runner.js';
import { SessionEvents } from '../../../src/events/session-events.service.js';
import type { SessionModuleOptions } from '../../../src/interfaces/session-options.interface.js';
import type { SessionStore } from '../../../src/interfaces/session-store.interface.js';
import { resolveSessionOptions } from '../../../src/options/session-options.validator.js';
import { RequestSession } from '../../../src/session/request-session.js';
import { SessionRuntime } from '../../../src/session/session-runtime.js';
import { CookieStore } from '../../../src/stores/cookie.store.js';
import { MemoryStore } from '../../../src/stores/memory.store.js';

const SECRET = 'commit-plan-secret-at-least-32-characters';

/** A store with only the required methods: blob records, last writer wins. */
class BlobStore implements SessionStore {
  readonly records = new Map<string, Uint8Array>();
  async read(id: string) { return this.records.get(id) ?? null; }
  async write(id: string, data: Uint8Array) { this.records.set(id, data); return id; }
  async remove(id: string) { this.records.delete(id); }
}

function setup(options: Omit<SessionModuleOptions, 'secret'> = {}, store: SessionStore = new MemoryStore()) {
  const resolved = resolveSessionOptions({ secret: SECRET, logger: false, store, ...options });
  const runtime = new SessionRuntime(resolved, store, new SessionEvents(resolved));
  const planner = new CommitPlanner(runtime.records.codec, runtime.expiry, runtime.store, resolved.rolling);
  /** A session as a request has it after loading: new and empty, or from the record `id`. */
  const session = async (id?: string) => {
    const s = new RequestSession(runtime);
    if (id !== undefined) await s.loadRecord(id, 0);
    s.phase = 'loaded';
    return s;
  };
  /** Creates a record holding `data` and returns its ID. */
  const seed = async (data: Record<string, unknown>) => {
    const s = await session();
    Object.assign(s.data, data);
    const plan = planner.prepare(s, 200, Date.now());
    const cookie = await runCommit(plan, runtime.store, runtime.users);
    if (cookie.kind !== 'set') throw new Error('seed failed');
    return cookie.value;
  };
  return { planner, session, seed, runtime, store };
}

const now = () => Date.now();

describe('CommitPlanner.prepare', () => {
  it('does nothing for a 5xx, a skipped request, or a session never loaded', async () => {
    const { planner, session, runtime } = setup();
    const changed = await session();
    changed.data.x = 1;
    expect(planner.prepare(changed, 500, now())).toBe(NOTHING_TO_COMMIT);
    expect(planner.prepare(changed, 503, now())).toBe(NOTHING_TO_COMMIT);
    const skipped = await session();
    skipped.skipped = true;
    skipped.data.x = 1;
    expect(planner.prepare(skipped, 200, now())).toBe(NOTHING_TO_COMMIT);
    const unloaded = new RequestSession(runtime);
    unloaded.data.x = 1;
    expect(planner.prepare(unloaded, 200, now())).toBe(NOTHING_TO_COMMIT);
  });

  it('a new session that stays empty: no write, no cookie', async () => {
    const { planner, session } = setup();
    const plan = planner.prepare(await session(), 200, now());
    expect(isNothing(plan)).toBe(true);
  });

  it('a new session with data: one create, a cookie with the whole lifetime, a created event, an ID assigned', async () => {
    const { planner, session } = setup({ lifetime: 60 });
    const s = await session();
    s.data.cart = ['apple'];
    const plan = planner.prepare(s, 201, now());
    expect(plan.write).toMatchObject({ mode: 'create', id: s.id });
    expect(plan.write!.ttl).toBeCloseTo(60, 1);
    expect(plan.cookie).toEqual({ kind: 'set', value: s.id, maxAge: 60 });
    expect(plan.events).toEqual(['created']);
    expect(plan.removals).toEqual([]);
    // 4xx changes are saved too.
    expect(planner.prepare(s, 404, now()).write?.mode).toBe('create');
  });

  it('an unchanged session with fixed expiry: nothing; one verified by an older secret: the cookie alone is re-issued', async () => {
    const { planner, session, seed } = setup({ lifetime: 60 });
    const id = await seed({ a: 1 });
    const s = await session(id);
    expect(isNothing(planner.prepare(s, 200, now()))).toBe(true);
    s.reissue = true;
    const plan = planner.prepare(s, 200, now());
    expect(plan.write).toBeUndefined();
    expect(plan.cookie).toMatchObject({ kind: 'set', value: id });
  });

  it('a change to one key of a per-key record patches that field alone', async () => {
    const { planner, session, seed } = setup();
    const id = await seed({ a: 1, b: 'kept' });
    const s = await session(id);
    s.data.a = 2;
    const plan = planner.prepare(s, 200, now());
    expect(plan.write?.mode).toBe('update');
    expect([...plan.write!.patch!.set.keys()].sort()).toEqual(['d:a', 'm']);
    expect(plan.write!.patch!.unset).toEqual([]);
    delete s.data.b;
    expect(planner.prepare(s, 200, now()).write!.patch!.unset).toEqual(['d:b']);
  });

  it('rolling: a fresh last-access stamp is only touched; a stale one is rewritten alone, never the data', async () => {
    const { planner, session, seed } = setup({ rolling: true, lifetime: 60 });
    const id = await seed({ a: 1 });
    const s = await session(id);
    const fresh = planner.prepare(s, 200, s.accessed + 1000);
    expect(fresh.write).toBeUndefined();
    expect(fresh.touch).toEqual({ id, ttl: 59 });
    expect(fresh.cookie).toEqual({ kind: 'set', value: id, maxAge: 59 });
    // 60 s lifetime: the stamp is rewritten once older than 3 s.
    const stale = planner.prepare(s, 200, s.accessed + 3000);
    expect(stale.touch).toBeUndefined();
    expect(stale.write?.mode).toBe('update');
    expect([...stale.write!.patch!.set.keys()]).toEqual(['m']);
    expect(stale.cookie).toEqual({ kind: 'set', value: id, maxAge: 60 });
  });

  it('a session emptied: its record removed and the cookie cleared', async () => {
    const { planner, session, seed } = setup();
    const id = await seed({ a: 1 });
    const s = await session(id);
    delete s.data.a;
    const plan = planner.prepare(s, 200, now());
    expect(plan.removals).toEqual([{ id, userId: undefined }]);
    expect(plan.cookie).toEqual({ kind: 'clear' });
    expect(plan.write).toBeUndefined();
  });

  it('regenerate: a create under the new ID, a check that the old record still exists, then its removal', async () => {
    const { planner, session, seed } = setup();
    const id = await seed({ user: 'ada' });
    const s = await session(id);
    await s.regenerate({ headers: {} });
    const plan = planner.prepare(s, 200, now());
    expect(plan.write).toMatchObject({ mode: 'create', id: s.id });
    expect(s.id).not.toBe(id);
    expect(plan.movedFrom).toMatchObject({ mode: 'update', id });
    expect(plan.removals).toEqual([{ id, userId: undefined }]);
    expect(plan.events).toEqual(['regenerated']);
  });

  it('destroy then new data: the old record removed, a new session created, both events', async () => {
    const { planner, session, seed } = setup();
    const id = await seed({ user: 'ada' });
    const s = await session(id);
    await s.destroy({ headers: {} });
    expect(planner.prepare(s, 200, now())).toMatchObject({ removals: [{ id }], cookie: { kind: 'clear' }, events: ['destroyed'] });
    s.data.guest = true;
    const plan = planner.prepare(s, 200, now());
    expect(plan.events).toEqual(['destroyed', 'created']);
    expect(plan.write?.mode).toBe('create');
    expect(plan.movedFrom).toBeUndefined();
  });

  it('an anonymous session (store outage) sends no cookie and writes nothing', async () => {
    const { planner, session } = setup();
    const s = await session();
    s.anonymous = true;
    s.data.x = 1;
    const plan = planner.prepare(s, 200, now());
    expect(plan.write).toBeUndefined();
    expect(plan.cookie).toEqual({ kind: 'keep' });
  });

  it('a store without per-key records gets the whole record', async () => {
    const { planner, session } = setup({}, new BlobStore());
    const s = await session();
    s.data.x = 1;
    const plan = planner.prepare(s, 200, now());
    expect(plan.write?.blob).toBeInstanceOf(Uint8Array);
    expect(plan.write?.patch).toBeUndefined();
  });

  it('a client-side store: the cookie carries the encoded record, not the ID', async () => {
    const { planner, session } = setup({}, new CookieStore());
    const s = await session();
    s.data.x = 1;
    const plan = planner.prepare(s, 200, now());
    expect(plan.cookie.kind).toBe('set');
    expect((plan.cookie as { value: string }).value).not.toBe(s.id);
    expect((plan.cookie as { value: string }).value.length).toBeGreaterThan(30);
  });
});

describe('runCommit', () => {
  const run = (ctx: ReturnType<typeof setup>, plan: CommitPlan) => runCommit(plan, ctx.runtime.store, ctx.runtime.users);

  it('an update of a record a concurrent request removed sends no cookie and recreates nothing', async () => {
    const ctx = setup();
    const id = await ctx.seed({ a: 1 });
    const s = await ctx.session(id);
    s.data.a = 2;
    const plan = ctx.planner.prepare(s, 200, now());
    await ctx.store.remove(id);
    expect(await run(ctx, plan)).toEqual({ kind: 'keep' });
    expect(await ctx.store.read(id, 0)).toBeNull();
  });

  it('a touch that finds the record gone sends no cookie', async () => {
    const ctx = setup({ rolling: true });
    const id = await ctx.seed({ a: 1 });
    const s = await ctx.session(id);
    const plan = ctx.planner.prepare(s, 200, s.accessed + 10);
    expect(plan.touch).toBeDefined();
    await ctx.store.remove(id);
    expect(await run(ctx, plan)).toEqual({ kind: 'keep' });
  });

  it('a regenerate whose old record is gone takes back the new one', async () => {
    const ctx = setup();
    const id = await ctx.seed({ user: 'ada' });
    const s = await ctx.session(id);
    await s.regenerate({ headers: {} });
    const plan = ctx.planner.prepare(s, 200, now());
    await ctx.store.remove(id);
    expect(await run(ctx, plan)).toEqual({ kind: 'keep' });
    expect(await ctx.store.read(plan.write!.id, 0)).toBeNull();
  });

  it('a failing removal after a create undoes the create and rejects with a 503 error', async () => {
    const store = new MemoryStore();
    const ctx = setup({}, store);
    const id = await ctx.seed({ user: 'ada' });
    const s = await ctx.session(id);
    await s.regenerate({ headers: {} });
    const plan = ctx.planner.prepare(s, 200, now());
    const remove = store.remove.bind(store);
    store.remove = async (target: string) => {
      if (target === id) throw new Error('store down');
      return remove(target);
    };
    await expect(run(ctx, plan)).rejects.toMatchObject({ status: 503 });
    expect(await store.read(plan.write!.id)).toBeNull();
    expect(await store.read(id)).not.toBeNull();
  });
});
