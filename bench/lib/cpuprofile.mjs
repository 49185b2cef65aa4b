// Summarizes a V8 .cpuprofile (what `node --cpu-prof` and the inspector's Profiler write):
// self time by function, self time by package, and inclusive time of the library's own
// functions (../dist), per request when the number of requests is known.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export function shortUrl(url) {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) return path.slice(nm + '/node_modules/'.length);
  return path.startsWith('/') ? relative(REPO, path) : path;
}

export function category(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'V8 builtins/native';
  }
  const u = shortUrl(url);
  if (u.startsWith('dist/')) return '@sessionkit/nest (dist)';
  if (u.startsWith('bench/')) return 'bench app';
  if (u.startsWith('node:')) return 'node core';
  const pkg = u.startsWith('@') ? u.split('/').slice(0, 2).join('/') : u.split('/')[0];
  return pkg;
}

/**
 * @param file  .cpuprofile path
 * @param requests  requests served while profiling (for µs per request), optional
 */
export function summarizeProfile(file, { requests, top = 25 } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Time per sample: timeDeltas[i] is the time before sample i; attribute it to sample i - 1.
  const sampleTime = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    sampleTime.set(samples[i], (sampleTime.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const totalUs = [...sampleTime.values()].reduce((a, b) => a + b, 0);

  const keyOf = (n) => {
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    return cf.url ? `${name}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : name;
  };

  const selfByFunction = new Map();
  const selfByCategory = new Map();
  const inclusiveOurs = new Map();
  let oursInclusive = 0;
  for (const [id, us] of sampleTime) {
    const n = nodes.get(id);
    const key = keyOf(n);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + us);
    const cat = category(n.callFrame.url, n.callFrame.functionName);
    selfByCategory.set(cat, (selfByCategory.get(cat) ?? 0) + us);
    // Inclusive: every library function on this sample's stack gets the sample once.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = nodes.get(cur);
      if (category(frame.callFrame.url) === '@sessionkit/nest (dist)') seen.add(keyOf(frame));
    }
    for (const k of seen) inclusiveOurs.set(k, (inclusiveOurs.get(k) ?? 0) + us);
    if (seen.size) oursInclusive += us;
  }

  const busyUs = totalUs - (selfByCategory.get('idle') ?? 0);
  const fmt = (us) => ({
    ms: Math.round(us / 1000),
    pctBusy: Number(((100 * us) / busyUs).toFixed(1)),
    ...(requests ? { usPerRequest: Number((us / requests).toFixed(2)) } : {}),
  });
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return {
    file,
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    requests,
    busyUsPerRequest: requests ? Number((busyUs / requests).toFixed(1)) : undefined,
    libraryInclusive: fmt(oursInclusive),
    byCategory: sorted(selfByCategory).map(([name, us]) => ({ name, ...fmt(us) })),
    selfTop: sorted(selfByFunction).slice(0, top).map(([name, us]) => ({ name, ...fmt(us) })),
    libraryInclusiveTop: sorted(inclusiveOurs).slice(0, top).map(([name, us]) => ({ name, ...fmt(us) })),
  };
}

export function printSummary(s, title = s.file) {
  const col = (row) => `${String(row.ms).padStart(7)} ms ${String(row.pctBusy).padStart(5)}%${row.usPerRequest !== undefined ? ` ${String(row.usPerRequest).padStart(7)} µs/req` : ''}`;
  const lines = [
    `== ${title}`,
    `   ${s.busyMs} ms busy of ${s.totalMs} ms${s.requests ? `, ${s.requests} requests, ${s.busyUsPerRequest} µs busy per request` : ''}`,
    `   library on the stack (inclusive): ${col(s.libraryInclusive)}`,
    '-- self time by package',
    ...s.byCategory.slice(0, 14).map((r) => `${col(r)}  ${r.name}`),
    '-- self time by function',
    ...s.selfTop.map((r) => `${col(r)}  ${r.name}`),
    '-- library functions, inclusive (callees included)',
    ...s.libraryInclusiveTop.map((r) => `${col(r)}  ${r.name}`),
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, requests] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node lib/cpuprofile.mjs <file.cpuprofile> [requests]');
    process.exit(2);
  }
  console.log(printSummary(summarizeProfile(file, { requests: requests ? Number(requests) : undefined })));
}
