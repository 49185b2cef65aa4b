/**
 * Real `redis-server` processes for tests, each on its own free loopback port, never the
 * machine's shared Redis. Every wait is bounded; every process is killed by PID on stop, and
 * on process exit as a last resort.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 5000;
const CLUSTER_TIMEOUT_MS = 20000;

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** PID of the current process (changes after `restart`). */
  readonly pid: number;
  /** SIGSTOP: the process stays, the socket stays open, nothing answers (a frozen Redis). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** SIGKILL: connections drop at once (a crashed Redis). */
  kill(): Promise<void>;
  /** Starts a fresh, empty process on the same port and waits until it answers PING. */
  restart(): Promise<void>;
  /** Terminates the process (killing it if it does not exit in time). Idempotent. */
  stop(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** For `new Cluster(cluster.startupNodes)`. */
  readonly startupNodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) if (c.pid) tryKill(c.pid, 'SIGKILL');
    });
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

let availability: boolean | undefined;

/**
 * Whether `redis-server` and `redis-cli` are on PATH. Without them a suite should be skipped
 * (`redisAvailable() ? describe : describe.skip`) with a loud notice, except on CI
 * (`CI=true`), where this throws so the run fails instead of silently testing less.
 */
export function redisAvailable(): boolean {
  if (availability === undefined) {
    const found = ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
    if (!found && process.env.CI === 'true') {
      throw new Error('redis-server/redis-cli not found on PATH, and CI=true: Redis tests must run on CI.');
    }
    if (!found) {
      console.warn(
        '\n*** redis-server/redis-cli not found on PATH: the Redis test suites are SKIPPED. ***\n' +
          '*** Install Redis (Debian: apt-get install redis-server) to run them.            ***\n',
      );
    }
    availability = found;
  }
  return availability;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts an empty, non-persistent `redis-server` on a free loopback port. */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', ...extraArgs];
  let child = await launch(args, port);
  let paused = false;

  const waitExit = (c: ChildProcess, ms: number) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve(true)
      : new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });

  const kill = async () => {
    tryKill(child.pid!, 'SIGKILL');
    paused = false;
    await waitExit(child, START_TIMEOUT_MS);
  };
  const resume = () => {
    tryKill(child.pid!, 'SIGCONT');
    paused = false;
  };

  return {
    host: HOST,
    port,
    get pid() {
      return child.pid!;
    },
    pause() {
      tryKill(child.pid!, 'SIGSTOP');
      paused = true;
    },
    resume,
    kill,
    async restart() {
      await kill();
      child = await launch(args, port);
    },
    async stop() {
      // A stopped process would not act on SIGTERM until continued.
      if (paused) resume();
      tryKill(child.pid!, 'SIGTERM');
      if (!(await waitExit(child, 2000))) await kill();
    },
  };
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited at startup:\n${output}`);
    }
    const reply = await redisCommand(port, ['PING'], 500).catch(() => null);
    if (reply === 'PONG') return child;
    if (Date.now() > deadline) {
      tryKill(child.pid!, 'SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(50);
  }
}

/**
 * Starts three cluster masters (no replicas) in a temp dir, creates the cluster with
 * `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok`.
 */
export async function startCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sessionkit-cluster-'));
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      // An explicit bus port: the default (port + 10000) is often beyond 65535 for ephemeral ports.
      const busPort = await freePort();
      nodes.push(
        await startRedisServer([
          '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(dir, `nodes-${i}.conf`),
          '--cluster-port', String(busPort),
          '--cluster-node-timeout', '5000',
          '--dir', dir,
        ]),
      );
    }
    const addresses = nodes.map((n) => `${HOST}:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], CLUSTER_TIMEOUT_MS);
    const deadline = Date.now() + CLUSTER_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(nodes.map((n) => redisCommand(n.port, ['CLUSTER', 'INFO']).catch(() => '')));
      if (infos.every((info) => String(info).includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error(`cluster not ok within ${CLUSTER_TIMEOUT_MS} ms:\n${infos.join('\n')}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, startupNodes: nodes.map((n) => ({ host: HOST, port: n.port })), stop };
}

type Reply = string | number | null | Reply[];

/**
 * Sends one command on a fresh connection and returns its reply (errors reject). Independent of
 * ioredis, so that inspecting a server never disturbs the client under test.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, HOST);
    let buffer = Buffer.alloc(0);
    const done = (error: Error | null, reply?: Reply) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`redis ${args[0]} on port ${port} timed out`)));
    socket.once('error', (e) => done(e));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        const parsed = parseReply(buffer, 0);
        if (!parsed) return;
        if (parsed.error) done(new Error(parsed.error));
        else done(null, parsed.value);
      } catch (error) {
        done(error as Error);
      }
    });
    socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

interface Parsed {
  value: Reply;
  error?: string;
  end: number;
}

// Minimal RESP2 reader; `undefined` means "need more bytes".
function parseReply(buf: Buffer, start: number): Parsed | undefined {
  const eol = buf.indexOf('\r\n', start);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[start]!);
  const line = buf.toString('utf8', start + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: null, error: line, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
