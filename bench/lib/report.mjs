// Aggregation (medians over interleaved rounds), targets, and the printed / markdown tables.

/** Targets from issue 5. `storeCalls`/`redis`: store operations / Redis commands per request. */
export const TARGETS = {
  'ours-memory': {
    noop: { ratio: 0.95, storeCalls: 0 },
    read: { ratio: 0.85 },
    write: { ratio: 0.8 },
    new: { ratio: 0.75 },
  },
  'ours-cookie': {
    noop: { ratio: 0.95, storeCalls: 0 },
    read: { ratio: 0.8 },
  },
  'ours-redis': {
    noop: { ratio: 0.95, storeCalls: 0, redis: 0 },
    read: { ratio: 0.7, redis: 1 },
    write: { ratio: 0.65, redis: 2 },
    new: { ratio: 0.65, redis: 1 },
  },
  // `redis` counts the store's round trips: Redis commands, or SQL statements for PostgreSQL.
  'ours-postgres': {
    noop: { storeCalls: 0, redis: 0 },
    read: { redis: 1 },
    write: { redis: 2 },
    new: { redis: 1 },
  },
  // Passport installed in the lazy style: routes without PassportSessionGuard cost nothing more.
  'ours-passport': {
    noop: { storeCalls: 0 },
  },
};

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per route and variant: medians over rounds, ratio to the same round's bare run, targets. */
export function summarize(runs, variants, routes) {
  const rows = [];
  for (const route of routes) {
    for (const variant of variants) {
      const mine = runs.filter((r) => r.route === route && r.variant === variant);
      if (mine.length === 0) continue;
      const ratios = mine
        .map((run) => {
          const bare = runs.find((r) => r.route === route && r.variant === 'bare' && r.round === run.round);
          return bare ? run.rps / bare.rps : NaN;
        })
        .filter(Number.isFinite);
      // Served (counted by the server) includes responses in flight when autocannon stopped.
      // The same comparison from the server's own CPU time per request (bare / variant): steadier
      // than req/s on a shared machine, and what throughput becomes when the server is the limit.
      const cpuRatios = mine
        .map((run) => {
          const bare = runs.find((r) => r.route === route && r.variant === 'bare' && r.round === run.round);
          return bare ? bare.serverCpuUsPerRequest / run.serverCpuUsPerRequest : NaN;
        })
        .filter(Number.isFinite);
      // The same against the bare app with a pass-through global interceptor: what the module
      // costs above the floor every interceptor-based module pays.
      const floorRatios = mine
        .map((run) => {
          const floor = runs.find((r) => r.route === route && r.variant === 'bare-interceptor' && r.round === run.round);
          return floor ? run.rps / floor.rps : NaN;
        })
        .filter(Number.isFinite);
      const requests = mine.reduce((sum, r) => sum + (r.served ?? r.requests), 0);
      const storeCalls = mine.reduce((sum, r) => sum + r.storeCallsTotal, 0);
      const redisCommands = mine.reduce((sum, r) => sum + r.redis.total, 0);
      const redisByCommand = {};
      const serverByCommand = {};
      for (const run of mine) {
        for (const [name, calls] of Object.entries(run.redis.delta)) redisByCommand[name] = (redisByCommand[name] ?? 0) + calls;
        for (const [name, calls] of Object.entries(run.redisServer?.delta ?? {})) serverByCommand[name] = (serverByCommand[name] ?? 0) + calls;
      }
      const storeByMethod = {};
      for (const run of mine) {
        for (const [name, calls] of Object.entries(run.storeCalls)) storeByMethod[name] = (storeByMethod[name] ?? 0) + calls;
      }
      const target = TARGETS[variant]?.[route];
      const row = {
        route,
        variant,
        rounds: mine.length,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        cpuUs: median(mine.map((r) => r.serverCpuUsPerRequest)),
        cpuRatio: variant === 'bare' ? 1 : median(cpuRatios),
        foreignCpu: Math.max(...mine.map((r) => r.foreignCpuShare ?? 0)),
        ratio: variant === 'bare' ? 1 : median(ratios),
        ratioMin: ratios.length ? Math.min(...ratios) : NaN,
        ratioMax: ratios.length ? Math.max(...ratios) : NaN,
        floorRatio: variant.startsWith('ours-') ? median(floorRatios) : NaN,
        storeCallsPerRequest: storeCalls / requests,
        storeCallsByMethod: perRequest(storeByMethod, requests),
        redisPerRequest: redisCommands / requests,
        redisByCommand: perRequest(redisByCommand, requests),
        redisServerPerRequest: mine.reduce((sum, r) => sum + (r.redisServer?.total ?? 0), 0) / requests,
        redisServerByCommand: perRequest(serverByCommand, requests),
        errors: mine.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
        target,
      };
      if (target) row.verdict = verdict(row, target);
      rows.push(row);
    }
  }
  return rows;
}

function perRequest(counts, requests) {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / requests, 3)]));
}

function verdict(row, target) {
  const misses = [];
  if (target.ratio !== undefined && !(row.ratio >= target.ratio)) misses.push(`ratio ${row.ratio.toFixed(2)} < ${target.ratio}`);
  if (target.storeCalls !== undefined && row.storeCallsPerRequest > target.storeCalls + 0.005) {
    misses.push(`${row.storeCallsPerRequest.toFixed(2)} store calls/req`);
  }
  // Tolerance: a few requests in flight when a run stops reach Redis but are not counted.
  if (target.redis !== undefined && Math.abs(row.redisPerRequest - target.redis) > 0.05) {
    misses.push(`${row.redisPerRequest.toFixed(2)} Redis round trips/req, want ${target.redis}`);
  }
  if (row.errors > 0) misses.push(`${row.errors} errors`);
  return misses.length === 0 ? 'PASS' : `MISS (${misses.join('; ')})`;
}

export function round(value, digits = 2) {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value;
}

function targetText(row) {
  const t = row.target;
  if (!t) return '';
  const parts = t.ratio === undefined ? [] : [`>= ${t.ratio.toFixed(2)}`];
  if (t.storeCalls !== undefined) parts.push(`${t.storeCalls} store calls`);
  if (t.redis !== undefined) parts.push(`${t.redis} RT`);
  return parts.join(', ');
}

function redisText(row) {
  if (!row.variant.endsWith('redis') && !row.variant.endsWith('postgres')) return row.redisPerRequest > 0.005 ? row.redisPerRequest.toFixed(2) : '-';
  const detail = Object.entries(row.redisByCommand)
    .filter(([, v]) => v >= 0.005)
    .map(([k, v]) => `${k.toUpperCase()} ${v.toFixed(2)}`)
    .join(' + ');
  const server = Object.entries(row.redisServerByCommand ?? {})
    .filter(([, v]) => v >= 0.005)
    .map(([k, v]) => `${k.toUpperCase()} ${v.toFixed(2)}`)
    .join(' + ');
  const inside = Math.abs((row.redisServerPerRequest ?? 0) - row.redisPerRequest) > 0.05 ? `; in Redis: ${server}` : '';
  return `${row.redisPerRequest.toFixed(2)}${detail ? ` (${detail}${inside})` : ''}`;
}

/** Markdown table (also what README.md shows). */
export function markdownTable(rows) {
  const lines = [
    '| route | variant | req/s (median) | p99 ms | ratio to bare (min–max) | target | result | ratio to floor | server CPU µs/req | CPU ratio | store calls/req | Redis round trips/req |',
    '|---|---|---:|---:|---|---|---|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const ratio = row.variant === 'bare' ? '1 (denominator)' : `${row.ratio.toFixed(2)} (${row.ratioMin.toFixed(2)}–${row.ratioMax.toFixed(2)})`;
    lines.push(
      `| /${row.route} | ${row.variant} | ${Math.round(row.rps)} | ${row.p99} | ${ratio} | ${targetText(row)} | ${row.verdict ?? ''} | ${Number.isFinite(row.floorRatio) ? row.floorRatio.toFixed(2) : ''} | ${Math.round(row.cpuUs)} | ${row.variant === 'bare' ? '1' : row.cpuRatio.toFixed(2)} | ${row.storeCallsPerRequest.toFixed(2)} | ${redisText(row)} |`,
    );
  }
  return lines.join('\n');
}

export function memoryTable(memory) {
  const lines = [
    '| variant | sessions stored | heapUsed B/session | arrayBuffers B/session | total B/session | RSS B/session |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const m of memory) {
    const stored = m.variant === 'bare' ? `control: ${m.measured} requests, none stored (B/request)` : m.sessions;
    lines.push(`| ${m.variant} | ${stored} | ${m.perSession.heapUsed} | ${m.perSession.arrayBuffers} | ${m.perSession.total} | ${m.perSession.rss} |`);
  }
  return lines.join('\n');
}
