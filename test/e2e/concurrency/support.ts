/**
 * Helpers for the issue-4 e2e suites (concurrency, user-sessions, flash, events). Not a spec file.
 *
 * - Redis topologies on servers these suites start themselves (a single node, a 3-master
 *   Cluster), each with the app's ioredis client and a way to open a separate inspection client.
 * - `PlainStore`: a custom store with only read/write/remove (no field, update, lock or index
 *   capability), as a user would write one.
 * - A MONITOR tap and `INFO commandstats` deltas, on their own sockets (never the client under test).
 */
import { describe } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import net from 'node:net';
import type { SessionStore } from '../../../src/index.js';
import { redisAvailable, redisCommand, sleep, startCluster, startRedisServer } from '../../support/redis-server.js';

/** `describe` when redis-server is installed; otherwise a loud skip (and a failure under CI=true). */
export const describeRedis = (name: string, fn: () => void): void => (redisAvailable() ? describe : describe.skip)(name, fn);

export type TopologyKind = 'single' | 'cluster';

export interface RedisTopology {
  readonly kind: TopologyKind;
  /** The app's client. */
  readonly client: Redis | Cluster;
  /** Every master's port (one for a single node). */
  readonly ports: readonly number[];
  /** A new client of the same kind on the same servers (another app instance, or inspection). */
  newClient(): Promise<Redis | Cluster>;
  stop(): Promise<void>;
}

async function ready(client: Redis | Cluster): Promise<Redis | Cluster> {
  client.on('error', () => {});
  if (client.status === 'ready') return client;
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('end', () => reject(new Error('redis client ended before ready')));
  });
  return client;
}

export async function startTopology(kind: TopologyKind): Promise<RedisTopology> {
  const clients: (Redis | Cluster)[] = [];
  if (kind === 'single') {
    const server = await startRedisServer();
    const newClient = async () => {
      const c = await ready(new Redis({ host: server.host, port: server.port }));
      clients.push(c);
      return c;
    };
    const client = await newClient();
    return {
      kind,
      client,
      ports: [server.port],
      newClient,
      async stop() {
        await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
        await server.stop();
      },
    };
  }
  const cluster = await startCluster();
  const newClient = async () => {
    const c = await ready(new Cluster(cluster.startupNodes));
    clients.push(c);
    return c;
  };
  const client = await newClient();
  return {
    kind,
    client,
    ports: cluster.nodes.map((n) => n.port),
    newClient,
    async stop() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      await cluster.stop();
    },
  };
}

/** Runs one command on whichever master owns the key (the others answer MOVED). */
export async function onOwner(ports: readonly number[], args: string[]): Promise<unknown> {
  const replies = await Promise.allSettled(ports.map((port) => redisCommand(port, args)));
  const ok = replies.find((r) => r.status === 'fulfilled');
  if (!ok) throw (replies[0] as PromiseRejectedResult).reason;
  return (ok as PromiseFulfilledResult<unknown>).value;
}

/**
 * A custom store with nothing but the required methods: no `readFields`/`patch` (so the module
 * keeps one blob per session and a commit rewrites it whole), no `update`, no locks, no index.
 * Every call crosses a macrotask, as a networked store would.
 */
export class PlainStore implements SessionStore {
  readonly records = new Map<string, Uint8Array>();
  readonly calls = { read: 0, write: 0, remove: 0 };

  async read(id: string): Promise<Uint8Array | null> {
    this.calls.read++;
    await new Promise((resolve) => setImmediate(resolve));
    return this.records.get(id) ?? null;
  }
  async write(id: string, data: Uint8Array): Promise<string> {
    this.calls.write++;
    await new Promise((resolve) => setImmediate(resolve));
    this.records.set(id, Uint8Array.from(data));
    return id;
  }
  async remove(id: string): Promise<void> {
    this.calls.remove++;
    await new Promise((resolve) => setImmediate(resolve));
    this.records.delete(id);
  }
}

/** Parks a handler until the test opens it; `arrived` resolves once a handler is waiting. */
export class Gate {
  private openIt!: () => void;
  private arrive!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.openIt = resolve));
  readonly arrived = new Promise<void>((resolve) => (this.arrive = resolve));
  async pass(): Promise<void> {
    this.arrive();
    await this.opened;
  }
  open(): void {
    this.openIt();
  }
}

/** `INFO commandstats` as a map: command name (lower case, `|` subcommands kept) → calls. */
export async function commandStats(port: number): Promise<Map<string, number>> {
  const info = String(await redisCommand(port, ['INFO', 'commandstats']));
  const stats = new Map<string, number>();
  for (const line of info.split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

/** What changed between two `commandStats` snapshots (commands with a zero delta left out). */
export function statsDelta(before: Map<string, number>, after: Map<string, number>, ignore: readonly string[] = ['info']): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d !== 0 && !ignore.includes(name)) delta[name] = d;
  }
  return delta;
}

/** One command as MONITOR printed it. */
export interface Monitored {
  readonly name: string;
  /** Arguments with MONITOR's escaping undone for printable text (`\xNN` kept as written). */
  readonly args: readonly string[];
  /** Run from inside a Lua script. */
  readonly lua: boolean;
}

/** A MONITOR connection to one server; `take()` returns and forgets what it saw so far. */
export class MonitorTap {
  private buffer = '';
  private seen: Monitored[] = [];

  private constructor(private readonly socket: net.Socket) {}

  static open(port: number): Promise<MonitorTap> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const tap = new MonitorTap(socket);
      socket.once('error', reject);
      socket.on('data', (chunk) => {
        tap.buffer += chunk.toString('latin1');
        let eol: number;
        while ((eol = tap.buffer.indexOf('\r\n')) >= 0) {
          const line = tap.buffer.slice(0, eol);
          tap.buffer = tap.buffer.slice(eol + 2);
          if (line === '+OK') resolve(tap);
          else tap.parse(line);
        }
      });
      socket.write('*1\r\n$7\r\nMONITOR\r\n');
    });
  }

  private parse(line: string): void {
    const open = line.indexOf('] "');
    if (!line.startsWith('+') || open < 0) return;
    const source = line.slice(line.indexOf('[') + 1, open);
    const args: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"/g;
    const body = line.slice(open + 2);
    for (let m = re.exec(body); m; m = re.exec(body)) args.push(m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
    if (args.length > 0) this.seen.push({ name: args[0]!.toUpperCase(), args: args.slice(1), lua: /\blua\b/.test(source) });
  }

  /** Waits until MONITOR has reported a marker sent after `action`, then returns what it saw. */
  async record<T>(port: number, action: () => Promise<T>): Promise<{ result: T; commands: Monitored[] }> {
    const before = `sessionkit-before-${Math.random()}`;
    const after = `sessionkit-after-${Math.random()}`;
    await redisCommand(port, ['ECHO', before]);
    await this.until(before);
    const result = await action();
    await redisCommand(port, ['ECHO', after]);
    await this.until(after);
    const from = this.seen.findIndex((c) => c.name === 'ECHO' && c.args[0] === before);
    const to = this.seen.findIndex((c) => c.name === 'ECHO' && c.args[0] === after);
    const commands = this.seen.slice(from + 1, to);
    this.seen = this.seen.slice(to + 1);
    return { result, commands };
  }

  private async until(marker: string): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!this.seen.some((c) => c.name === 'ECHO' && c.args[0] === marker)) {
      if (Date.now() > deadline) throw new Error(`MONITOR did not report ${marker} within 3 s`);
      await sleep(5);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Milliseconds since `start` (performance.now()), rounded. */
export const since = (start: number) => Math.round(performance.now() - start);

export { sleep };
