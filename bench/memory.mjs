// Bytes of memory per stored session, measured through the HTTP app (the module's real encoding
// path: serializer, record header, store entry, Map key).
//
//   node memory.mjs [sessions=100000] [variant ...]     (npm run memory)
//
// Method: the variant runs as its own process with --expose-gc. 1 000 sessions are created first
// (warm-up: JIT, pools, lazily built module state), then the process collects garbage (6 passes)
// and reports process.memoryUsage(); then `sessions - 1000` more sessions are created with
// POST /new (no cookie, 50 connections), garbage is collected again and memory read again.
// Bytes per session = delta / (stored entries after - before). heapUsed misses Buffer contents
// (they live outside the V8 heap), so arrayBuffers is reported too, and their sum is the cost.
// The bare app is the control: the same requests store nothing, so its delta is the noise floor.
import { fileURLToPath } from 'node:url';
import { runLoad, ROUTES } from './lib/load.mjs';
import { startVariant } from './lib/processes.mjs';

const WARM_SESSIONS = 1000;

export async function measureMemory(variant, sessions) {
  const server = await startVariant(variant, { execArgv: ['--expose-gc'] });
  try {
    const warm = Math.min(WARM_SESSIONS, Math.floor(sessions / 10));
    await runLoad({ url: server.url, route: ROUTES.new, connections: 50, amount: warm });
    const before = await server.call('gc');
    const result = await runLoad({ url: server.url, route: ROUTES.new, connections: 50, amount: sessions - warm });
    const after = await server.call('gc');
    const stored = variant === 'bare' ? result.requests.total : (after.storeSize ?? 0) - (before.storeSize ?? 0);
    const per = (key) => Math.round((after.usage[key] - before.usage[key]) / stored);
    return {
      variant,
      sessions: variant === 'bare' ? 0 : after.storeSize,
      measured: stored,
      requests: result.requests.total,
      non2xx: result.non2xx,
      before: before.usage,
      after: after.usage,
      // For the bare control: bytes per request that stay after GC (should be ~0).
      perSession: {
        heapUsed: per('heapUsed'),
        arrayBuffers: per('arrayBuffers'),
        total: per('heapUsed') + per('arrayBuffers'),
        rss: per('rss'),
      },
    };
  } finally {
    await server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sessions = Number(process.argv[2] ?? 100_000);
  const variants = process.argv.length > 3 ? process.argv.slice(3) : ['ours-memory', 'es-memory', 'bare'];
  for (const variant of variants) {
    const m = await measureMemory(variant, sessions);
    console.log(
      `${variant.padEnd(12)} ${variant === 'bare' ? `control, ${m.measured} requests` : `${m.sessions} sessions`}: ` +
        `heapUsed ${m.perSession.heapUsed} B + arrayBuffers ${m.perSession.arrayBuffers} B = ${m.perSession.total} B per ${variant === 'bare' ? 'request' : 'session'} (rss ${m.perSession.rss} B)`,
    );
  }
}
