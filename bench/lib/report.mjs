// Aggregation (medians over interleaved rounds), targets, and the printed / markdown tables.

/**
 * Round-trip targets (issue 5): store operations and Redis commands (or SQL statements) per
 * request. Issue 5's throughput ratios are superseded by issue 16's (ISSUE16, costTable).
 */
export const TARGETS = {
  'ours-memory': { noop: { storeCalls: 0 } },
  'ours-cookie': { noop: { storeCalls: 0 } },
  'ours-redis': {
    noop: { storeCalls: 0, redis: 0 },
    read: { redis: 1 },
    write: { redis: 2 },
    new: { redis: 1 },
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

/**
 * Issue 16: each of ours against the express-session variant with the matching kind of store
 * (CookieStore against express-session's MemoryStore: the store it would replace; Passport in
 * the lazy style against express-session's MemoryStore, which Passport's docs pair it with).
 */
export const MATCHING = {
  'ours-memory': 'es-memory',
  'ours-cookie': 'es-memory',
  'ours-redis': 'es-redis',
  'ours-postgres': 'es-postgres',
  'ours-passport': 'es-memory',
  // The lower bound of the design (apps/server.mjs): what the least possible interceptor-based
  // session costs, against the same targets.
  'minimal-memory': 'es-memory',
  'minimal-redis': 'es-redis',
};
/** Variants that run through a global interceptor: their own cost counts from the floor. */
const aboveFloor = (variant) => variant.startsWith('ours-') || variant.startsWith('minimal-');
export const ISSUE16 = { vsExpressSession: 1.4, ownCostShare: 0.25, memoryNoopFloor: 0.95 };

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
      const sameRound = (run, other) => runs.find((r) => r.route === route && r.variant === other && r.round === run.round);
      const es = MATCHING[variant];
      const vsEs = es ? mine.map((run) => run.rps / (sameRound(run, es)?.rps ?? NaN)) : [];
      // Server CPU above the floor (ours) or above bare (express-session), per request, same round.
      const above = (other) => mine.map((run) => run.serverCpuUsPerRequest - (sameRound(run, other)?.serverCpuUsPerRequest ?? NaN));
      const gcRuns = mine.filter((r) => r.gc);
      const redisCosts = {};
      for (const run of mine) {
        for (const [name, c] of Object.entries(run.redisCommandCosts ?? {})) {
          const sum = (redisCosts[name] ??= { calls: 0, usec: 0 });
          sum.calls += c.calls;
          sum.usec += c.usec;
        }
      }
      const target = TARGETS[variant]?.[route];
      const row = {
        matching: es,
        vsEs: es ? median(vsEs) : NaN,
        ownCostUs: aboveFloor(variant) ? median(above('bare-interceptor')) : variant.startsWith('es-') ? median(above('bare')) : NaN,
        scavengesPer1000: gcRuns.length ? median(gcRuns.map((r) => (r.gc.scavenges * 1000) / (r.served ?? r.requests))) : NaN,
        gcUsPerRequest: gcRuns.length ? median(gcRuns.map((r) => (r.gc.ms * 1000) / (r.served ?? r.requests))) : NaN,
        redisCpuUs: median(mine.map((r) => r.redisCpuUsPerRequest)),
        redisCostPerCall: Object.fromEntries(Object.entries(redisCosts).map(([name, c]) => [name, { perRequest: round(c.calls / requests, 3), usecPerCall: round(c.usec / c.calls, 2) }])),
        route,
        variant,
        rounds: mine.length,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        cpuUs: median(mine.map((r) => r.serverCpuUsPerRequest)),
        kernelUs: median(mine.map((r) => r.serverKernelUsPerRequest)),
        cpuRatio: variant === 'bare' ? 1 : median(cpuRatios),
        foreignCpu: Math.max(...mine.map((r) => r.foreignCpuShare ?? 0)),
        ratio: variant === 'bare' ? 1 : median(ratios),
        ratioMin: ratios.length ? Math.min(...ratios) : NaN,
        ratioMax: ratios.length ? Math.max(...ratios) : NaN,
        floorRatio: aboveFloor(variant) ? median(floorRatios) : NaN,
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

/**
 * Issue 16's targets next to what they measure: throughput against the matching
 * express-session variant (>= 1.4x), the session's own server CPU (above the floor) against
 * express-session's (above bare; at most a quarter), MemoryStore on /noop (>= 0.95 of the
 * floor); and where the cost goes: garbage collections and the store server's CPU.
 */
export function costTable(rows) {
  const lines = [
    '| route | variant | vs express-session (req/s) | own cost: server CPU µs/req above floor (ours, minimal) or bare (express-session) | ≤ ¼ of express-session\'s | server CPU in the kernel µs/req | GC: scavenges per 1000 req | GC pause µs/req | Redis process CPU µs/req | in Redis: calls/req × µs per call |',
    '|---|---|---|---:|---|---:|---:|---:|---:|---|',
  ];
  const find = (route, variant) => rows.find((r) => r.route === route && r.variant === variant);
  for (const row of rows) {
    if (row.variant === 'bare') continue;
    let vs = '';
    let quarter = '';
    if (row.matching) {
      const es = find(row.route, row.matching);
      const ok = row.vsEs >= ISSUE16.vsExpressSession;
      vs = `${row.vsEs.toFixed(2)}× ${row.matching} ${ok ? 'PASS' : 'MISS'}`;
      if (es) {
        const limit = es.ownCostUs * ISSUE16.ownCostShare;
        quarter = `${row.ownCostUs <= limit ? 'PASS' : 'MISS'} (limit ${limit.toFixed(0)})`;
      }
    }
    if (row.variant === 'ours-memory' && row.route === 'noop') {
      vs += `; ${row.floorRatio.toFixed(2)} of floor ${row.floorRatio >= ISSUE16.memoryNoopFloor ? 'PASS' : 'MISS'} (≥ ${ISSUE16.memoryNoopFloor})`;
    }
    const inRedis = Object.entries(row.redisCostPerCall ?? {})
      .filter(([, c]) => c.perRequest >= 0.005)
      .map(([name, c]) => `${name.toUpperCase()} ${c.perRequest.toFixed(2)} × ${c.usecPerCall.toFixed(2)}`)
      .join(', ');
    const storeServer = row.variant.endsWith('redis') ? row.redisCpuUs.toFixed(1) : '';
    lines.push(
      `| /${row.route} | ${row.variant} | ${vs} | ${Number.isFinite(row.ownCostUs) ? row.ownCostUs.toFixed(0) : ''} | ${quarter} | ${Number.isFinite(row.kernelUs) ? row.kernelUs.toFixed(0) : ''} | ${Number.isFinite(row.scavengesPer1000) ? row.scavengesPer1000.toFixed(2) : ''} | ${Number.isFinite(row.gcUsPerRequest) ? row.gcUsPerRequest.toFixed(1) : ''} | ${storeServer} | ${row.variant.endsWith('redis') ? inRedis : ''} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Server CPU per request in each round, for the variants that decide issue 16's verdicts (the
 * spread shows how much one run can be trusted), with the most CPU other processes took meanwhile.
 */
export function roundsTable(runs, variants) {
  const lines = [
    "| route | variant | server CPU µs/req, by round | other processes' CPU share, max |",
    '|---|---|---|---:|',
  ];
  const shown = ['bare', 'bare-interceptor', 'minimal-memory', 'es-memory', 'ours-memory', 'minimal-redis', 'es-redis', 'ours-redis'].filter((v) => variants.includes(v));
  for (const route of [...new Set(runs.map((r) => r.route))].filter((r) => r !== 'noop')) {
    for (const variant of shown) {
      const mine = runs.filter((r) => r.route === route && r.variant === variant).sort((a, b) => a.round - b.round);
      if (mine.length === 0) continue;
      const cpu = mine.map((r) => Math.round(r.serverCpuUsPerRequest)).join(', ');
      lines.push(`| /${route} | ${variant} | ${cpu} | ${Math.round(100 * Math.max(...mine.map((r) => r.foreignCpuShare ?? 0)))} % |`);
    }
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
