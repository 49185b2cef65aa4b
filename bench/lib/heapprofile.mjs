// Summarizes a V8 sampling heap profile (what `node --heap-prof` and the inspector's
// HeapProfiler.stopSampling write): bytes allocated by function (self) and by package, and
// inclusive bytes of the library's own functions, per request when the number is known.
// `node lib/heapprofile.mjs FILE [requests]` summarizes any .heapprofile.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { category, shortUrl } from './cpuprofile.mjs';

export function summarizeHeapProfile(file, { requests, top = 20 } = {}) {
  const { head } = JSON.parse(readFileSync(file, 'utf8'));
  const byFunction = new Map();
  const byCategory = new Map();
  const inclusiveOurs = new Map();
  let total = 0;
  const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);
  // Returns the subtree's bytes; a library function's inclusive bytes count each subtree once
  // even when it recurses.
  const walk = (node, ourStack) => {
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const file = shortUrl(cf.url);
    const key = file ? `${name}  ${file}:${cf.lineNumber + 1}` : name;
    const ours = file.startsWith('dist/');
    add(byFunction, key, node.selfSize);
    add(byCategory, category(cf.url, cf.functionName), node.selfSize);
    total += node.selfSize;
    let subtree = node.selfSize;
    const stack = ours && !ourStack.has(key) ? new Set(ourStack).add(key) : ourStack;
    for (const child of node.children ?? []) subtree += walk(child, stack);
    if (stack !== ourStack) add(inclusiveOurs, key, subtree);
    return subtree;
  };
  walk(head, new Set());
  const per = (bytes) => (requests ? bytes / requests : undefined);
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, bytes]) => ({ key, bytes, perRequest: per(bytes) }));
  return { file, requests, total, perRequest: per(total), byCategory: rows(byCategory), byFunction: rows(byFunction), inclusiveOurs: rows(inclusiveOurs) };
}

export function printHeapSummary(s, title = s.file) {
  const line = (r) => `  ${String(Math.round(r.bytes / 1024)).padStart(8)} KiB  ${r.perRequest === undefined ? '' : `${r.perRequest.toFixed(0).padStart(6)} B/req`}  ${r.key}`;
  return [
    `== ${title}`,
    `   ${Math.round(s.total / 1024)} KiB allocated (sampled)${s.perRequest === undefined ? '' : `, ${s.perRequest.toFixed(0)} B per request`}`,
    '-- by package',
    ...s.byCategory.map(line),
    '-- by function (self)',
    ...s.byFunction.map(line),
    '-- library functions, inclusive',
    ...s.inclusiveOurs.map(line),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, requests] = process.argv.slice(2);
  console.log(printHeapSummary(summarizeHeapProfile(file, { requests: requests ? Number(requests) : undefined })));
}
