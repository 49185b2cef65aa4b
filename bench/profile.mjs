// CPU profiles of variants under load (npm run profile):
//
//   node profile.mjs [variant:route ...]
//   default: ours-memory:noop ours-memory:read ours-memory:write ours-memory:new ours-redis:read bare:read
//   PROFILE_DURATION=8 (seconds of load while profiling), PROFILE_INTERVAL=200 (µs between samples)
//   PROFILE_KIND=heap: V8's sampling heap profiler instead (what `node --heap-prof` records),
//     collected objects included: bytes allocated per request by function and package
//     (results/profiles/<variant>-<route>.heapprofile); PROFILE_INTERVAL is then bytes (1024)
//
// Each target runs in its own server process: seeded, warmed up for 10 s, then profiled with V8's
// sampling profiler (the one `node --cpu-prof` uses, started through node:inspector once warm so
// the bootstrap is left out) while autocannon loads it. Writes results/profiles/<variant>-<route>.cpuprofile
// (open in Chrome DevTools or VS Code) and prints self time by package and function, and the
// library's functions inclusive, in µs per request. `node lib/cpuprofile.mjs FILE [requests]`
// summarizes any .cpuprofile, including one written by `node --cpu-prof`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSummary, summarizeProfile } from './lib/cpuprofile.mjs';
import { printHeapSummary, summarizeHeapProfile } from './lib/heapprofile.mjs';
import { checkSeeded, ROUTES, runLoad, seedCookies } from './lib/load.mjs';
import { pinLoadGenerator, startRedis, startVariant } from './lib/processes.mjs';

pinLoadGenerator();

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const OUT = join(BENCH_DIR, 'results', 'profiles');
const duration = Number(process.env.PROFILE_DURATION ?? 8);
const heap = process.env.PROFILE_KIND === 'heap';
const interval = Number(process.env.PROFILE_INTERVAL ?? (heap ? 1024 : 200));
const targets = (process.argv.length > 2
  ? process.argv.slice(2)
  : ['ours-memory:noop', 'ours-memory:read', 'ours-memory:write', 'ours-memory:new', 'ours-redis:read', 'bare:read']
).map((t) => {
  const [variant, route] = t.split(':');
  if (!ROUTES[route]) throw new Error(`unknown route in ${t}`);
  return { variant, route };
});

mkdirSync(OUT, { recursive: true });
const redis = targets.some((t) => t.variant.endsWith('redis')) ? await startRedis() : undefined;
const summaries = [];
try {
  for (const { variant, route } of targets) {
    const server = await startVariant(variant, { redisPort: redis?.port });
    try {
      const cookies = await seedCookies(server, 50);
      if (!variant.startsWith('bare')) await checkSeeded(server, cookies[0]);
      const load = (seconds) =>
        runLoad({ url: server.url, route: ROUTES[route], cookies: ROUTES[route].cookies ? cookies : null, connections: 50, duration: seconds });
      await load(10);
      const file = join(OUT, `${variant}-${route}.${heap ? 'heapprofile' : 'cpuprofile'}`);
      await server.call(heap ? 'heap-start' : 'profile-start', { interval });
      const before = (await server.call('stats')).served;
      const result = await load(duration);
      const served = (await server.call('stats')).served - before;
      await server.call(heap ? 'heap-stop' : 'profile-stop', { file });
      const title = `${variant} ${ROUTES[route].method} ${ROUTES[route].path}`;
      if (heap) {
        const summary = summarizeHeapProfile(file, { requests: served });
        summaries.push({ variant, route, ...summary });
        console.log(`${printHeapSummary(summary, title)}\n`);
        continue;
      }
      const summary = summarizeProfile(file, { requests: served });
      summary.rps = Math.round(result.requests.total / result.duration);
      summaries.push({ variant, route, ...summary });
      console.log(`${printSummary(summary, `${variant} ${ROUTES[route].method} ${ROUTES[route].path} (${summary.rps} req/s while profiling)`)}\n`);
    } finally {
      await server.stop();
    }
  }
} finally {
  await redis?.stop();
}
writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summaries, null, 2)}\n`);
console.log(`profiles and summary.json in ${OUT}`);
