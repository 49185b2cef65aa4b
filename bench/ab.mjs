// A/B comparison of library builds (for checking a proposed change before it goes into src/):
//
//   node ab.mjs <route[,route]> <variant>[@/abs/lib/dir] ...     (bare is always added)
//   e.g. node ab.mjs read,noop ours-memory ours-memory@/tmp/exp/dist
//   AB_ROUNDS=5 AB_DURATION=2 AB_WARMUP=3
//
// A lib dir is a copy of dist/ (patched by hand); give it a node_modules symlink beside it to the
// repo's node_modules (ln -s /work/main/node_modules /tmp/exp/node_modules) so it resolves the
// same Nest packages. Interleaved rounds, as run.mjs; prints median req/s, ratio to bare and
// the server's CPU µs per request (the steadiest number on a 2-core machine).
import { cpuBetween, cpuSnapshot, waitForQuiet } from './lib/cpu.mjs';
import { checkSeeded, ROUTES, runLoad, seedCookies } from './lib/load.mjs';
import { commandCosts, idle, measuring, pinLoadGenerator, redisCommand, sessionCostsBetween, startRedis, startVariant } from './lib/processes.mjs';

pinLoadGenerator();
import { median } from './lib/report.mjs';

const [routesArg, ...specs] = process.argv.slice(2);
if (!routesArg || specs.length === 0) {
  console.error('usage: node ab.mjs <route[,route]> <variant>[@/abs/lib/dir] ...');
  process.exit(2);
}
const routes = routesArg.split(',');
const rounds = Number(process.env.AB_ROUNDS ?? 5);
const duration = Number(process.env.AB_DURATION ?? 2);
// Warm-up per entry x route (JIT; see run.mjs): measured code is steady-state code.
const warmup = Number(process.env.AB_WARMUP ?? 3);
const entries = [{ label: 'bare', variant: 'bare' }, ...specs.map((s) => {
  const [variant, lib] = s.split('@');
  return { label: s, variant, lib };
})];

const redis = entries.some((e) => e.variant.endsWith('redis')) ? await startRedis() : undefined;
// SLOWLOG with a 100 µs threshold (Redis's default is 10 ms): how many session commands come near it.
if (redis) await redisCommand(redis.port, 'CONFIG', 'SET', 'slowlog-log-slower-than', '100');
let slowCommands;
const runs = [];
try {
  // Fresh processes every round (a process can be persistently faster or slower than another
  // running the same code); seeded and warmed up each time.
  const start = async () => {
    for (const e of entries) {
      e.server = await startVariant(e.variant, { redisPort: redis?.port, env: e.lib ? { BENCH_LIB: e.lib } : {} });
      idle(e.server);
      e.cookies = { read: await seedCookies(e.server, 50), write: await seedCookies(e.server, 50) };
      if (!e.variant.startsWith('bare')) await checkSeeded(e.server, e.cookies.read[0]);
    }
  };
  const once = async (e, route, seconds) => {
    const r = ROUTES[route];
    measuring(e.server);
    await waitForQuiet({ timeout: 10_000 });
    const before = cpuSnapshot([e.server.pid, redis?.pid ?? e.server.pid]);
    const statsBefore = redis ? await commandCosts(redis.port) : undefined;
    const gcBefore = (await e.server.call('stats')).gc;
    const result = await runLoad({ url: e.server.url, route: r, cookies: r.cookies ? e.cookies[r.cookies] : null, connections: 50, duration: seconds });
    const after = cpuSnapshot([e.server.pid, redis?.pid ?? e.server.pid]);
    idle(e.server);
    const cpu = cpuBetween(before, after, e.server.pid, redis?.pid ?? e.server.pid);
    const commands = redis ? sessionCostsBetween(statsBefore, await commandCosts(redis.port)) : {};
    const gcAfter = (await e.server.call('stats')).gc;
    if (result.non2xx || result.errors) console.error(`${e.label} /${route}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    const requests = result.requests.total;
    return {
      rps: requests / result.duration,
      cpuUs: (cpu.server * 1e6) / requests,
      kernelUs: (cpu.serverKernel * 1e6) / requests,
      // Scavenges per 1000 requests and GC pause µs per request (the server's own count).
      scavenges: ((gcAfter.minor - gcBefore.minor) * 1000) / requests,
      gcUs: ((gcAfter.ms - gcBefore.ms) * 1000) / requests,
      // The Redis process's own CPU (parsing, networking, execution) per request of this variant.
      redisUs: redis && e.variant.endsWith('redis') ? (cpu.redis * 1e6) / requests : undefined,
      commands: Object.fromEntries(Object.entries(commands).map(([name, c]) => [name, { perRequest: c.calls / requests, usecPerCall: c.usec / c.calls }])),
      foreign: cpu.foreignShare,
    };
  };
  for (let round = 0; round < rounds; round++) {
    await start();
    for (const route of routes) for (const e of entries) await once(e, route, warmup);
    for (const route of routes) {
      const order = entries.map((_, i) => entries[(i + round) % entries.length]);
      for (const e of order) runs.push({ round, route, label: e.label, ...(await once(e, route, duration)) });
    }
    await Promise.all(entries.map((e) => e.server.stop()));
  }
  if (redis) slowCommands = await redisCommand(redis.port, 'SLOWLOG', 'LEN');
} finally {
  await Promise.allSettled(entries.map((e) => e.server?.stop()));
  await redis?.stop();
}
for (const route of routes) {
  console.log(`\n/${route}  (${rounds} rounds x ${duration} s)`);
  for (const e of entries) {
    const mine = runs.filter((r) => r.route === route && r.label === e.label);
    const ratios = mine.map((r) => r.rps / runs.find((b) => b.route === route && b.label === 'bare' && b.round === r.round).rps);
    console.log(
      `  ${e.label.padEnd(40)} ${String(Math.round(median(mine.map((r) => r.rps)))).padStart(6)} req/s  ratio ${median(ratios).toFixed(3)}  CPU ${median(mine.map((r) => r.cpuUs)).toFixed(1)} µs/req [${Math.min(...mine.map((r) => r.cpuUs)).toFixed(0)}–${Math.max(...mine.map((r) => r.cpuUs)).toFixed(0)}]  (other jobs: max ${Math.round(100 * Math.max(...mine.map((r) => r.foreign)))} % CPU)`,
    );
    console.log(
      `  ${''.padEnd(40)} of which in the kernel ${median(mine.map((r) => r.kernelUs)).toFixed(1)} µs/req; GC: ${median(mine.map((r) => r.scavenges)).toFixed(2)} scavenges per 1000 requests, ${median(mine.map((r) => r.gcUs)).toFixed(1)} µs of GC pauses per request`,
    );
    if (mine[0].redisUs !== undefined) {
      const names = Object.keys(mine.at(-1).commands);
      const perCommand = names.map((n) => {
        const c = mine.filter((r) => r.commands[n]).map((r) => r.commands[n]);
        return `${n} ${median(c.map((x) => x.perRequest)).toFixed(2)}/req × ${median(c.map((x) => x.usecPerCall)).toFixed(2)} µs`;
      });
      console.log(`  ${''.padEnd(40)} Redis process CPU ${median(mine.map((r) => r.redisUs)).toFixed(1)} µs/req; in Redis: ${perCommand.join(', ')}`);
    }
  }
}
if (slowCommands !== undefined) console.log(`\nRedis SLOWLOG: ${slowCommands} command(s) took over 100 µs in Redis during the whole run`);
