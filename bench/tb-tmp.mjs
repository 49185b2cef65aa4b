import { startVariant } from '/work/main/bench/lib/processes.mjs';
import { runLoad, ROUTES, seedCookies } from '/work/main/bench/lib/load.mjs';
const s = await startVariant('ours-memory', { env: { BENCH_LIB: process.argv[2] }, execArgv: ['--allow-natives-syntax'] });
const cookies = await seedCookies(s, 50);
await runLoad({ url: s.url, route: ROUTES[process.argv[3] ?? 'noop'], cookies, connections: 50, amount: 120000 });
await s.stop();
