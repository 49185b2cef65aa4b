// `npm run bench`: builds the library, starts its own redis-server and one process per variant,
// loads them in interleaved rounds with autocannon, measures memory per session, prints the
// table and writes results/<date>.json (and RESULTS.json for a full default run).
//
// Environment:
//   BENCH_QUICK=1          quick mode: 1 s runs, 2 rounds, 10 000 sessions for memory (~2 min)
//   BENCH_DURATION=2       seconds per run (variant x route x round)
//   BENCH_ROUNDS=5         interleaved rounds
//   BENCH_CONNECTIONS=50   concurrent connections
//   BENCH_WARMUP=1         seconds of warm-up per variant x route after each round's (re)start
//   BENCH_PREWARM=1        seconds of unmeasured load right before each measured run
//   BENCH_VARIANTS=a,b     subset of variants (bare and bare-interceptor always run: the denominator and the floor)
//   BENCH_ROUTES=read,new  subset of routes
//   BENCH_MEMORY=0         skip the memory-per-session measurement
//   BENCH_MEMORY_SESSIONS  sessions for the memory measurement (default 100000)
//   BENCH_SKIP_BUILD=1     use ../dist as it is
//   BENCH_QUIET_TIMEOUT    ms to wait before each run for other jobs to leave the CPUs idle (10000)
//   BENCH_SAVE=1           also write RESULTS.json (done anyway for a run with default settings)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSeeded, ROUTES, runLoad, seedCookies } from './lib/load.mjs';
import { PINNED, commandCosts, idle, measuring, pinLoadGenerator, sessionCommandsBetween, sessionCostsBetween, startRedis, startVariant } from './lib/processes.mjs';

pinLoadGenerator();
import { cpuBetween, cpuSnapshot, waitForQuiet } from './lib/cpu.mjs';
import { costTable, markdownTable, median, memoryTable, round, roundsTable, summarize } from './lib/report.mjs';
import { measureMemory } from './memory.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO = dirname(BENCH_DIR);
const ALL_VARIANTS = ['bare', 'bare-interceptor', 'es-memory', 'es-redis', 'es-postgres', 'ours-memory', 'ours-cookie', 'ours-redis', 'ours-postgres', 'ours-passport', 'minimal-memory', 'minimal-redis'];
const env = process.env;
const quick = env.BENCH_QUICK === '1';
const numberFrom = (name, fallback) => {
  if (env[name] === undefined || env[name] === '') return fallback;
  const value = Number(env[name]);
  if (!(value > 0)) throw new Error(`${name} must be a positive number (got "${env[name]}")`);
  return value;
};
const config = {
  quick,
  duration: numberFrom('BENCH_DURATION', quick ? 1 : 2),
  rounds: Math.round(numberFrom('BENCH_ROUNDS', quick ? 2 : 5)),
  connections: Math.round(numberFrom('BENCH_CONNECTIONS', 50)),
  // Per variant x route, every round: ~12 s of load per fresh process before its first measured
  // run. The module's code keeps getting faster for ~10 s of load (JIT); 0.5 s measured cold code.
  warmup: numberFrom('BENCH_WARMUP', 1),
  // Load right before each measured run, unmeasured: a process left idle while the nine others
  // run comes back slower (V8 ages and flushes code it has not run lately), by up to 2x for
  // the apps with the most code on the request path (measured 2026-12-06).
  prewarm: numberFrom('BENCH_PREWARM', 1),
  variants: env.BENCH_VARIANTS ? ['bare', 'bare-interceptor', ...env.BENCH_VARIANTS.split(',').filter((v) => !v.startsWith('bare'))] : ALL_VARIANTS,
  routes: env.BENCH_ROUTES ? env.BENCH_ROUTES.split(',') : Object.keys(ROUTES),
  memory: env.BENCH_MEMORY !== '0',
  // Before each run, wait up to this many ms for other jobs to leave the CPUs idle (< 15 % busy).
  quietTimeout: Math.round(numberFrom('BENCH_QUIET_TIMEOUT', quick ? 2000 : 10_000)),
  memorySessions: Math.round(numberFrom('BENCH_MEMORY_SESSIONS', quick ? 10_000 : 100_000)),
};
for (const v of config.variants) if (!ALL_VARIANTS.includes(v)) throw new Error(`unknown variant ${v}`);
for (const r of config.routes) if (!ROUTES[r]) throw new Error(`unknown route ${r}`);
const defaultRun =
  !quick && ['BENCH_DURATION', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_WARMUP', 'BENCH_PREWARM', 'BENCH_VARIANTS', 'BENCH_ROUTES', 'BENCH_MEMORY', 'BENCH_MEMORY_SESSIONS'].every((n) => !env[n]);

const callsOf = (costs) => Object.fromEntries(Object.entries(costs).map(([name, c]) => [name, c.calls]));
const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- build and sanity checks ---------------------------------------------------------------

if (env.BENCH_SKIP_BUILD !== '1') {
  log('building the library (npm run build at the repo root)');
  const build = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}
if (!existsSync(join(REPO, 'dist/index.js'))) throw new Error('../dist/index.js is missing: run `npm ci && npm run build` at the repo root');

// The variants load a private snapshot of ../dist (a temp dir whose node_modules links to the
// repo's), so a rebuild of dist/ while the bench runs (tests, other work) cannot break or change
// it half-way. BENCH_LIB=/abs/dir/ uses another build instead (see ab.mjs).
let snapshot;
if (!env.BENCH_LIB) {
  snapshot = mkdtempSync(join(os.tmpdir(), 'sessionkit-bench-lib-'));
  cpSync(join(REPO, 'dist'), join(snapshot, 'dist'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(snapshot, 'node_modules'));
  process.env.BENCH_LIB = join(snapshot, 'dist');
}
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};
const source = { commit: git('rev-parse', 'HEAD'), srcChanged: git('status', '--porcelain', '--', 'src') !== '', lib: snapshot ? 'dist (private snapshot copy)' : env.BENCH_LIB };

// Nest must be ONE copy: the library (../dist) and the bench apps both resolve @nestjs/* from the
// repo root's node_modules. A second copy in bench/node_modules would break DI (ModuleRef etc.).
// Resolved the way Node does (nearest node_modules upwards); Nest's exports maps hide package.json.
function packageDir(pkg, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
for (const pkg of ['@nestjs/core', '@nestjs/common', '@nestjs/platform-express', 'rxjs', 'reflect-metadata']) {
  const a = packageDir(pkg, join(BENCH_DIR, 'apps'));
  const b = packageDir(pkg, join(REPO, 'dist'));
  if (!a || !b) throw new Error(`${pkg} not found: run \`npm ci\` at the repo root first (the bench uses the repo's Nest packages)`);
  if (a !== b) throw new Error(`${pkg} resolves to two copies (${a} and ${b}): remove it from bench/node_modules`);
}

const pkgVersion = (pkg, fromDir) => JSON.parse(readFileSync(join(packageDir(pkg, fromDir), 'package.json'), 'utf8')).version;
const machine = {
  // The machine's CPUs (availableParallelism() would count only the ones this pinned process may use).
  nproc: os.cpus().length,
  cpu: (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? os.cpus()[0]?.model,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  // Server on the last CPU, load generator and redis-server on the others (lib/processes.mjs).
  pinned: PINNED,
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  redis: execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim(),
  packages: {
    '@nestjs/core': pkgVersion('@nestjs/core', BENCH_DIR),
    '@nestjs/platform-express': pkgVersion('@nestjs/platform-express', BENCH_DIR),
    express: pkgVersion('express', REPO),
    'express-session': pkgVersion('express-session', BENCH_DIR),
    'connect-redis': pkgVersion('connect-redis', BENCH_DIR),
    ioredis: pkgVersion('ioredis', BENCH_DIR),
    autocannon: pkgVersion('autocannon', BENCH_DIR),
  },
};

// ---- processes -----------------------------------------------------------------------------

let redis;
const servers = {};
async function cleanup() {
  await Promise.allSettled(Object.values(servers).map((s) => s.stop()));
  if (redis) await redis.stop();
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping servers and redis-server`);
    cleanup().finally(() => process.exit(130));
  });
}

try {
  redis = await startRedis();
  log(`redis-server pid ${redis.pid} on 127.0.0.1:${redis.port}`);
  // Fresh server processes every round: one process can run persistently faster or slower
  // than another of the same code (JIT decisions, memory layout), by as much as 10 % here, so
  // each round's numbers come from new processes and the medians average that out.
  const cookies = {};
  const startServers = async (round) => {
    for (const variant of config.variants) {
      servers[variant] = await startVariant(variant, { redisPort: redis.port });
      idle(servers[variant]);
      // One session per connection: /noop and /read share the "read" set, /write has its own.
      const server = servers[variant];
      cookies[variant] = { read: await seedCookies(server, config.connections), write: await seedCookies(server, config.connections) };
      if (!variant.startsWith('bare')) await checkSeeded(server, cookies[variant].read[0]);
    }
    log(`round ${round + 1}: started ${config.variants.map((v) => `${v} (pid ${servers[v].pid})`).join(', ')}; seeded ${config.connections} + ${config.connections} sessions each`);
  };
  const stopServers = async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    for (const key of Object.keys(servers)) delete servers[key];
  };

  const measure = async (variant, routeName, duration, round) => {
    const server = servers[variant];
    const route = ROUTES[routeName];
    measuring(server);
    const quiet = round >= 0 ? await waitForQuiet({ timeout: config.quietTimeout }) : undefined;
    const before = await server.call('stats');
    const redisBefore = await commandCosts(redis.port);
    const cpuBefore = cpuSnapshot([server.pid, redis.pid]);
    const result = await runLoad({
      url: server.url,
      route,
      cookies: route.cookies ? cookies[variant][route.cookies] : null,
      connections: config.connections,
      duration,
    });
    const cpuAfter = cpuSnapshot([server.pid, redis.pid]);
    idle(server);
    // Let responses still in flight reach the store before reading the counters.
    await sleep(100);
    const after = await server.call('stats');
    const redisAfter = await commandCosts(redis.port);
    const served = after.served - before.served;
    const storeCalls = {};
    let storeCallsTotal = 0;
    for (const [method, calls] of Object.entries(after.storeCalls)) {
      const d = calls - (before.storeCalls[method] ?? 0);
      if (d > 0) storeCalls[method] = d;
      storeCallsTotal += d;
    }
    const cpu = cpuBetween(cpuBefore, cpuAfter, server.pid, redis.pid);
    const roundTrips = {};
    let roundTripsTotal = 0;
    for (const [name, calls] of Object.entries(after.redisCommands)) {
      const d = calls - (before.redisCommands[name] ?? 0);
      if (d > 0) roundTrips[name] = d;
      roundTripsTotal += d;
    }
    return {
      round,
      route: routeName,
      variant,
      requests: result.requests.total,
      served,
      duration: result.duration,
      rps: result.requests.total / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      // CPU the server process used per request (user + system), and how busy the machine was
      // with processes that are not the bench's (other jobs disturb the run).
      serverCpuUsPerRequest: (cpu.server * 1e6) / result.requests.total,
      // Of which in the kernel (socket reads and writes, loopback TCP included).
      serverKernelUsPerRequest: (cpu.serverKernel * 1e6) / result.requests.total,
      foreignCpuShare: cpu.foreignShare,
      busyBeforeShare: quiet,
      storeCalls,
      storeCallsTotal,
      // Round trips: commands the app's Redis client sent. Server side (INFO commandstats on our
      // own redis-server) also counts the commands Lua scripts run inside Redis.
      redis: { total: roundTripsTotal, delta: roundTrips },
      redisServer: sessionCommandsBetween(callsOf(redisBefore), callsOf(redisAfter)),
      // The Redis process's own CPU per request (parsing, networking, execution), and per command
      // the µs Redis spent executing it (INFO commandstats).
      redisCpuUsPerRequest: (cpu.redis * 1e6) / result.requests.total,
      redisCommandCosts: sessionCostsBetween(redisBefore, redisAfter),
      // Garbage collections in the server during the run (PerformanceObserver 'gc' entries).
      gc: { scavenges: after.gc.minor - before.gc.minor, majors: after.gc.major - before.gc.major, ms: after.gc.ms - before.gc.ms },
    };
  };

  const runs = [];
  const total = config.rounds * config.routes.length * config.variants.length;
  const minutes = Math.ceil((total * (config.duration + config.prewarm + 0.8) + config.rounds * config.variants.length * (config.routes.length * config.warmup + 1.5)) / 60);
  log(`${config.rounds} interleaved rounds x ${config.routes.length} routes x ${config.variants.length} variants, ${config.duration} s each (~${minutes} min)`);
  for (let round = 0; round < config.rounds; round++) {
    await startServers(round);
    // Warm-up (JIT) of the new processes: every variant x route, not measured.
    for (const route of config.routes) for (const variant of config.variants) await measure(variant, route, config.warmup, -1);
    for (const route of config.routes) {
      // Rotate the order each round, so no variant always runs first or right after another.
      const shift = round % config.variants.length;
      const order = [...config.variants.slice(shift), ...config.variants.slice(0, shift)];
      for (const variant of order) {
        await measure(variant, route, config.prewarm, -1);
        const run = await measure(variant, route, config.duration, round);
        runs.push(run);
        if (run.errors || run.non2xx) log(`  ${variant} /${route}: ${run.errors} errors, ${run.non2xx} non-2xx`);
      }
    }
    await stopServers();
    const done = runs.filter((r) => r.round === round);
    log(`round ${round + 1}/${config.rounds}: ${done.map((r) => `${r.variant}/${r.route} ${Math.round(r.rps)}`).join(', ')}`);
  }

  let memory = [];
  if (config.memory) {
    log(`memory per session: ${config.memorySessions} sessions through POST /new`);
    // bare is the control (the same POST /new stores nothing): 20 000 requests are enough for it.
    for (const variant of ['ours-memory', 'es-memory']) memory.push(await measureMemory(variant, config.memorySessions));
    memory.push(await measureMemory('bare', Math.min(20_000, config.memorySessions)));
  }

  const rows = summarize(runs, config.variants, config.routes);
  const date = new Date().toISOString();
  const result = {
    date,
    command: 'cd bench && npm install && npm run bench',
    machine,
    source,
    config,
    summary: rows.map((r) => ({ ...r, rps: round(r.rps, 0), ratio: round(r.ratio, 3), cpuUs: round(r.cpuUs, 1), cpuRatio: round(r.cpuRatio, 3), ratioMin: round(r.ratioMin, 3), ratioMax: round(r.ratioMax, 3), storeCallsPerRequest: round(r.storeCallsPerRequest, 3), redisPerRequest: round(r.redisPerRequest, 3) })),
    memory,
    runs,
  };

  const table = markdownTable(rows);
  const costs = costTable(rows);
  const memTable = memory.length ? memoryTable(memory) : '';
  const byRound = roundsTable(runs, config.variants);
  console.log(`\n${machine.nproc} x ${machine.cpu}, Node ${machine.node}, ${PINNED ? 'server pinned to its own CPU' : 'not pinned'}, ${config.rounds} rounds x ${config.duration} s, ${config.connections} connections\n`);
  console.log(table);
  console.log(`\nIssue 16 targets and where the cost is:\n\n${costs}`);
  if (memTable) console.log(`\nMemory per stored session (${config.memorySessions} sessions):\n\n${memTable}`);
  console.log(`\nServer CPU per request in each round:\n\n${byRound}`);

  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'latest.md'), `${table}\n\n${costs}\n\n${memTable}\n\n${byRound}\n`);
  copyFileSync(file, join(resultsDir, 'latest.json'));
  log(`wrote ${file}`);
  if (defaultRun || env.BENCH_SAVE === '1') {
    copyFileSync(file, join(BENCH_DIR, 'RESULTS.json'));
    log('wrote RESULTS.json (committed copy of this run)');
  }
  const foreign = runs.map((r) => r.foreignCpuShare);
  const noisy = runs.filter((r) => r.foreignCpuShare > 0.1).length;
  log(`CPU used by other processes during runs: median ${(100 * median(foreign)).toFixed(1)} %, max ${(100 * Math.max(...foreign)).toFixed(1)} % of the machine; ${noisy}/${runs.length} runs above 10 %`);
  const misses = rows.filter((r) => r.verdict && r.verdict !== 'PASS');
  if (misses.length) log(`${misses.length} target(s) missed: ${misses.map((r) => `${r.variant} /${r.route}`).join(', ')}`);
} finally {
  await cleanup();
  log('stopped all servers and redis-server');
}
