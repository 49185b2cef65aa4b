/**
 * Helpers for the load suites (not a spec file): a keep-alive HTTP client that times every
 * request, a one-cookie jar per virtual user, percentiles, and the run sizes (CI / default /
 * LOAD_FULL=1). Loopback only; every request carries its own time limit.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MemoryStore } from '../../src/index.js';

export const HOST = '127.0.0.1';

/** LOAD_FULL=1 runs the full counts; CI=true (and a plain `npm test`) the reduced ones. */
export const FULL = process.env.LOAD_FULL === '1';
export const CI = process.env.CI === 'true';

export interface Reply {
  status: number;
  /** Set-Cookie lines, as sent. */
  setCookies: string[];
  body: string;
  /** performance.now() at send and at the end of the body. */
  start: number;
  end: number;
  ms: number;
  /** Transport error (connection refused, request time limit); status is 0 then. */
  error?: string;
}

/**
 * A client for one server, on a keep-alive agent. `maxSockets` bounds the concurrency the
 * server sees; requests beyond it queue in the agent (their time counts).
 */
export class LoadClient {
  readonly agent: Agent;

  constructor(
    readonly port: number,
    maxSockets: number,
    private readonly requestTimeoutMs = 10_000,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  get(path: string, cookie?: string): Promise<Reply> {
    const start = performance.now();
    return new Promise<Reply>((resolve) => {
      let settled = false;
      const finish = (reply: Omit<Reply, 'start' | 'end' | 'ms'>) => {
        if (settled) return;
        settled = true;
        const end = performance.now();
        resolve({ ...reply, start, end, ms: end - start });
      };
      const headers: Record<string, string> = cookie ? { cookie } : {};
      const req = httpRequest({ host: HOST, port: this.port, path, method: 'GET', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = res.headers['set-cookie'];
          finish({ status: res.statusCode ?? 0, setCookies: raw ?? [], body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (error) => finish({ status: 0, setCookies: [], body: '', error: error.message }));
      });
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)));
      req.on('error', (error) => finish({ status: 0, setCookies: [], body: '', error: error.message }));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Whether a MemoryStore holds a session, whichever way the module stored it (record or fields). */
export async function holds(store: MemoryStore, id: string): Promise<boolean> {
  return (await store.read(id)) !== null || (await store.readFields(id)) !== null;
}

/** Makes a server listen on an ephemeral loopback port; returns the port. */
export async function listenOn(server: Server): Promise<number> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return (server.address() as AddressInfo).port;
}

/** The session cookie pair (`sid=<value>`) of a set of Set-Cookie lines, or undefined. */
export function sidPair(setCookies: readonly string[], name = 'sid'): string | undefined {
  const line = setCookies.find((c) => c.startsWith(`${name}=`));
  return line?.split(';')[0];
}

/** The session ID inside a `sid=<id>.<sig>` pair. */
export function idOfPair(pair: string): string {
  const value = pair.slice(pair.indexOf('=') + 1);
  return value.slice(0, value.lastIndexOf('.'));
}

/** One virtual user's cookie jar: the session cookie only, updated from every response. */
export class Jar {
  pair: string | undefined;

  /** Applies a response's Set-Cookie lines; returns the new pair when the session cookie changed. */
  take(setCookies: readonly string[]): string | undefined {
    const line = setCookies.find((c) => c.startsWith('sid='));
    if (!line) return undefined;
    const pair = line.split(';')[0]!;
    if (pair === 'sid=' || /;\s*max-age=0\b/i.test(line)) {
      this.pair = undefined;
      return undefined;
    }
    this.pair = pair;
    return pair;
  }
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Runs `jobs` async workers over `count` items (index passed), at most `concurrency` at once. */
export async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await job(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

let gcFn: (() => void) | undefined;

/** A full GC (exposed at runtime, since Jest does not start Node with --expose-gc). */
export function gc(): void {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** Memory after a full GC: the JS heap plus ArrayBuffer backing stores (where Buffers live). */
export function settledHeap(): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
