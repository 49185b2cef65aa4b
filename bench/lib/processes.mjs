// Child processes of the bench: the variant servers (fork + IPC) and its own redis-server.
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../apps/server.mjs', import.meta.url));

/** A free loopback port: listen(0), read it, close. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * CPU pinning (BENCH_PIN=0 turns it off): the server under test gets the last CPU to itself; the
 * load generator (this process) and redis-server share the others. Without it the scheduler
 * moves the server and autocannon between the two cores of this machine, and the same code
 * measured 30 % apart from one process to the next.
 */
const CPUS = availableParallelism();
export const PINNED = process.env.BENCH_PIN !== '0' && CPUS >= 2 && spawnSync('taskset', ['-V']).status === 0;
const SERVER_CPU = String(CPUS - 1);
const OTHER_CPUS = CPUS === 2 ? '0' : `0-${CPUS - 2}`;

function pin(pid, cpus) {
  if (!PINNED) return;
  // -a: every thread of the process (V8's and libuv's too); threads started later inherit it.
  const result = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`taskset could not pin pid ${pid} to CPU ${cpus}`);
}

/** Pins the calling process (the load generator) away from the server's CPU. */
export function pinLoadGenerator() {
  pin(process.pid, OTHER_CPUS);
}

/**
 * With several variants alive at once, only the one being measured may use the server's CPU:
 * the idle ones still collect garbage and run timers, and on that CPU they slowed the measured
 * server by up to 2x (10 processes pinned together; measured 2026-12-06). `measuring(server)`
 * moves it there for its run, `idle(server)` back to the other CPUs.
 */
export function measuring(server) {
  pin(server.pid, SERVER_CPU);
}

export function idle(server) {
  pin(server.pid, OTHER_CPUS);
}

/** Starts `apps/server.mjs <variant>`; resolves once it listens. */
export async function startVariant(variant, { redisPort, execArgv = [], env = {} } = {}) {
  const child = fork(SERVER, [variant], {
    execArgv,
    env: { ...process.env, NODE_ENV: 'production', BENCH_REDIS_PORT: String(redisPort ?? ''), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pin(child.pid, SERVER_CPU);
  let nextId = 0;
  const pending = new Map();
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.type === 'error') waiter.reject(new Error(`[${variant}] ${message.message}`));
    else waiter.resolve(message);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = await withTimeout(
    new Promise((resolve, reject) => {
      child.on('message', (message) => message.type === 'ready' && resolve(message));
      exited.then(({ code, signal }) => reject(new Error(`variant ${variant} exited before listening (${code ?? signal})`)));
    }),
    30_000,
    `variant ${variant} start`,
  );
  const call = (type, extra = {}, timeout = 60_000) => {
    const id = ++nextId;
    const answer = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send({ type, id, ...extra });
    return withTimeout(answer, timeout, `variant ${variant} ${type}`);
  };
  return {
    variant,
    pid: child.pid,
    port: ready.port,
    url: `http://127.0.0.1:${ready.port}`,
    call,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'exit' });
      const result = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 5000))]);
      if (result === null) {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** Minimal RESP client on a raw socket: the bench's own admin connection (INFO, FLUSHALL). */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buffer += chunk;
      const reply = parseReply(buffer);
      if (reply === undefined) return;
      socket.end();
      if (reply instanceof Error) reject(reply);
      else resolve(reply);
    });
  });
}

function parseReply(text) {
  const type = text[0];
  const eol = text.indexOf('\r\n');
  if (eol === -1) return undefined;
  const head = text.slice(1, eol);
  if (type === '+') return head;
  if (type === '-') return new Error(head);
  if (type === ':') return Number(head);
  if (type === '$') {
    const length = Number(head);
    if (length === -1) return null;
    const body = text.slice(eol + 2);
    // Byte length: INFO is ASCII, so characters are bytes.
    if (body.length < length + 2) return undefined;
    return body.slice(0, length);
  }
  return new Error(`unexpected reply type ${type}`);
}

/** Calls per command from INFO commandstats. */
export async function commandStats(port) {
  const stats = {};
  for (const [name, { calls }] of Object.entries(await commandCosts(port))) stats[name] = calls;
  return stats;
}

/** Calls and Redis-side µs per command (INFO commandstats: `usec` is the time Redis spent executing it). */
export async function commandCosts(port) {
  const text = await redisCommand(port, 'INFO', 'commandstats');
  const stats = {};
  for (const line of text.split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match) stats[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return stats;
}

/**
 * Per command between two `commandCosts` snapshots: calls and the µs Redis spent executing them.
 * A script's inner commands have lines of their own and are also inside EVALSHA's time.
 */
export function sessionCostsBetween(before, after) {
  const delta = {};
  for (const [name, now] of Object.entries(after)) {
    if (NOT_SESSION_WORK.has(name) || name.startsWith('client|') || name.startsWith('config|')) continue;
    const calls = now.calls - (before[name]?.calls ?? 0);
    if (calls > 0) delta[name] = { calls, usec: now.usec - (before[name]?.usec ?? 0) };
  }
  return delta;
}

/** Commands that are the bench's or the client's own bookkeeping, not session work. */
const NOT_SESSION_WORK = new Set(['info', 'ping', 'client', 'hello', 'command', 'config', 'select', 'flushall', 'dbsize', 'quit']);

export function sessionCommandsBetween(before, after) {
  const delta = {};
  let total = 0;
  for (const [name, calls] of Object.entries(after)) {
    if (NOT_SESSION_WORK.has(name) || name.startsWith('client|') || name.startsWith('config|')) continue;
    const d = calls - (before[name] ?? 0);
    if (d > 0) {
      delta[name] = d;
      total += d;
    }
  }
  return { total, delta };
}

/** Starts the bench's own redis-server on a free loopback port, no persistence. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const spawned = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', resolve);
  });
  await spawned;
  pin(child.pid, OTHER_CPUS);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await redisCommand(port, 'PING')) === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
