/**
 * PostgreSQL for tests.
 *
 * - `startPostgresServer()`: a PRIVATE server, initdb'd in a temp dir by Debian's `initdb` and run
 *   on its own free loopback port, for the fault tests (stop, SIGKILL, SIGSTOP). A signal goes to
 *   the postmaster and every backend (a frozen server is frozen whole; a killed one is gone
 *   whole). As root, it runs as the `postgres` user
 *   (initdb refuses root). Every process is killed by PID on stop, and on exit as a last resort.
 * - `openTestDatabase()`: the shared server on 127.0.0.1:5432 (trust auth, user `postgres`,
 *   database `test`; another port with SESSIONKIT_TEST_PG_PORT), or a private server when that
 *   one is not there (or refuses us). Suites use a table name
 *   of their own, so files never collide.
 *
 * Without either, suites are skipped with a loud notice (`describePostgres`), except on CI
 * (`CI=true`), where they fail instead of silently testing less.
 */
import { describe } from '@jest/globals';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg, { type PoolConfig } from 'pg';
import { freePort, sleep } from './redis-server.js';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/** The shared test database (port 5432 unless `SESSIONKIT_TEST_PG_PORT` says otherwise). */
export const SHARED_DATABASE: PoolConfig = {
  host: HOST,
  port: Number(process.env.SESSIONKIT_TEST_PG_PORT ?? 5432),
  user: 'postgres',
  database: 'test',
};

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** PID of the current postmaster (changes after `restart`). */
  readonly pid: number;
  /** Connection settings for `new pg.Pool(...)`. */
  readonly config: PoolConfig;
  /** SIGSTOP to the whole server: sockets stay open, nothing answers (a frozen server). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** SIGKILL to the whole server: connections drop at once (a crashed server). */
  kill(): Promise<void>;
  /** A clean fast shutdown (SIGINT): clients are told, new connections are refused. Data kept. */
  shutdown(): Promise<void>;
  /** Starts the server again (same data, same port) and waits until it answers. */
  restart(): Promise<void>;
  /** Terminates the server (killing it if it does not exit in time) and deletes its files. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** On exit, the watchdog of every server still up stops it (as it does when this process dies). */
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.stdin?.destroy();
    });
  }
}

/**
 * Signals the postmaster and every process it forked. (Not its process group: PostgreSQL puts
 * each child in a session of its own, so that signals meant for the postmaster's group never
 * reach the backends.) The postmaster first, so it forks nothing new meanwhile.
 */
function signalServer(postmaster: number, signal: NodeJS.Signals): void {
  tryKill(postmaster, signal);
  for (const pid of childrenOf(postmaster)) tryKill(pid, signal);
}

/** PIDs whose parent is `pid` (from /proc; `pgrep -P` where there is none). */
function childrenOf(pid: number): number[] {
  if (!existsSync('/proc/self/stat')) {
    const found = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    return found.stdout.split('\n').filter(Boolean).map(Number);
  }
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

let binDir: string | null | undefined;

/** Directory of Debian's PostgreSQL server binaries (the newest version installed), or null. */
export function postgresBinDir(): string | null {
  if (binDir === undefined) {
    binDir = null;
    const root = '/usr/lib/postgresql';
    const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    for (const version of versions) {
      const dir = path.join(root, version, 'bin');
      if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'))) {
        binDir = dir;
        break;
      }
    }
    if (binDir === null) {
      const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
      const dir = found.status === 0 ? found.stdout.trim() : '';
      if (dir && existsSync(path.join(dir, 'initdb'))) binDir = dir;
    }
  }
  return binDir;
}

function notice(what: string): void {
  console.warn(
    `\n*** ${what}: the PostgreSQL test suites are SKIPPED. ***\n` +
      '*** Install PostgreSQL (Debian: apt-get install postgresql) to run them. ***\n',
  );
}

let privateAvailability: boolean | undefined;

/** Whether a private server can be started (`initdb` found). On CI its absence is an error. */
export function postgresServerAvailable(): boolean {
  if (privateAvailability === undefined) {
    privateAvailability = postgresBinDir() !== null;
    if (!privateAvailability && process.env.CI === 'true') {
      throw new Error('initdb/postgres not found (/usr/lib/postgresql/*/bin), and CI=true: PostgreSQL tests must run on CI.');
    }
    if (!privateAvailability) notice('initdb/postgres not found in /usr/lib/postgresql/*/bin');
  }
  return privateAvailability;
}

let sharedReachable: boolean | undefined;

/** Whether something answers on the shared server's port (checked once, synchronously). */
function sharedServerReachable(): boolean {
  if (sharedReachable === undefined) {
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `const s = require('net').connect(${SHARED_DATABASE.port}, '${HOST}');` +
          "s.setTimeout(1000, () => process.exit(1)); s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(1));",
      ],
      { stdio: 'ignore', timeout: 3000 },
    );
    sharedReachable = probe.status === 0;
  }
  return sharedReachable;
}

let databaseAvailability: boolean | undefined;

/** Whether the suites that need a database can run: the shared server, or a private one. */
export function postgresAvailable(): boolean {
  if (databaseAvailability === undefined) {
    databaseAvailability = sharedServerReachable() || postgresBinDir() !== null;
    if (!databaseAvailability && process.env.CI === 'true') {
      throw new Error('No PostgreSQL on 127.0.0.1:5432 and no initdb, and CI=true: PostgreSQL tests must run on CI.');
    }
    if (!databaseAvailability) notice('no PostgreSQL on 127.0.0.1:5432 and no initdb');
  }
  return databaseAvailability;
}

/** `describe` when a database is available; otherwise a loud skip (and a failure under CI=true). */
export const describePostgres = (name: string, fn: () => void): void => (postgresAvailable() ? describe : describe.skip)(name, fn);

/** `describe` when a private server can be started; otherwise a loud skip (a failure under CI=true). */
export const describePostgresServer = (name: string, fn: () => void): void =>
  (postgresServerAvailable() ? describe : describe.skip)(name, fn);

export interface TestDatabase {
  readonly config: PoolConfig;
  /** Stops the private server if one was started (the shared one is left alone). */
  stop(): Promise<void>;
}

/** The shared test database if it answers, else a private server. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (sharedServerReachable()) {
    const client = new pg.Client({ ...SHARED_DATABASE, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { config: SHARED_DATABASE, stop: async () => undefined };
    } catch {
      // Something else listens there: fall back to a private server.
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const server = await startPostgresServer();
  return { config: server.config, stop: () => server.stop() };
}

/** A pool that survives server crashes in tests (pg emits idle clients' errors on the pool). */
export function testPool(config: PoolConfig, extra: PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ ...config, ...extra });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Records the text of every statement run on the pool's clients (the real pool, instrumented:
 * how many round trips an operation or a request costs). Inspect with another pool, or your
 * own queries are counted too. `take()` returns what was seen since the last call.
 */
export function recordStatements(pool: pg.Pool): { take(): string[] } {
  const seen: string[] = [];
  const wrapped = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, ...rest: unknown[]) => {
      seen.push(typeof config === 'string' ? config : (config as { text: string }).text);
      return query(config, ...rest);
    };
  });
  return { take: () => seen.splice(0) };
}

/**
 * A table (or schema) name of this test process: two runs of the suite on one shared database
 * (two developers, two CI jobs) never drop each other's tables.
 */
export function ownName(base: string): string {
  return `${base}_${process.pid}`;
}

/** Drops a store's three tables (for a clean start of a suite that reuses its table name). */
export async function dropStoreTables(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}_users", "${table}_locks"`);
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** As root, the `postgres` user (initdb and postgres refuse to run as root). */
function runAs(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** initdb's a fresh cluster in a temp dir and starts it on a free loopback port. */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)');
  const user = runAs();
  const dir = await mkdtemp(path.join(tmpdir(), 'sessionkit-pg-'));
  const data = path.join(dir, 'data');
  if (user.uid !== undefined) await chown(dir, user.uid, user.gid!);
  try {
    await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], user, 60_000);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const args = [
    '-D', data,
    '-p', String(port),
    '-c', `listen_addresses=${HOST}`,
    '-c', 'unix_socket_directories=', // TCP only: never the machine's socket directory
    // Not durable against an OS crash, which no test makes; a commit still reaches the WAL (in
    // the OS's cache) before it returns, so a killed server keeps what it committed.
    '-c', 'fsync=off',
    '-c', 'full_page_writes=off',
    '-c', 'max_connections=50',
  ];
  const config: PoolConfig = { host: HOST, port, user: 'postgres', database: 'postgres' };
  let child: ChildProcess;
  let postmaster: number;
  try {
    ({ child, pid: postmaster } = await launch(path.join(bin, 'postgres'), args, user, config, data));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let paused = false;
  let removed = false;

  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const waitExit = (c: ChildProcess, ms: number) =>
    exited(c)
      ? Promise.resolve(true)
      : new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
  const resume = () => {
    signalServer(postmaster, 'SIGCONT');
    paused = false;
  };
  // The server stops because the test means it to (it may start again on the same files): the
  // watchdog stands down first.
  const standDown = () => child.stdin!.end('keep');
  const kill = async () => {
    standDown();
    const pids = [postmaster, ...childrenOf(postmaster)];
    signalServer(postmaster, 'SIGKILL');
    paused = false;
    await waitExit(child, STOP_TIMEOUT_MS);
    // The next start refuses while an old backend still holds the shared memory.
    await waitGone(pids, STOP_TIMEOUT_MS);
  };
  const shutdown = async () => {
    if (paused) resume();
    standDown();
    const pids = [postmaster, ...childrenOf(postmaster)];
    tryKill(postmaster, 'SIGINT'); // fast shutdown
    if (!(await waitExit(child, STOP_TIMEOUT_MS))) await kill();
    await waitGone(pids, STOP_TIMEOUT_MS);
  };

  return {
    host: HOST,
    port,
    config,
    get pid() {
      return postmaster;
    },
    pause() {
      signalServer(postmaster, 'SIGSTOP');
      paused = true;
    },
    resume,
    kill,
    shutdown,
    async restart() {
      if (!exited(child)) await kill();
      ({ child, pid: postmaster } = await launch(path.join(bin, 'postgres'), args, user, config, data));
    },
    async stop() {
      if (removed) return;
      removed = true;
      if (!exited(child)) await shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until none of `pids` is left (SIGKILL to the stragglers after `ms`). */
async function waitGone(pids: readonly number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        // A zombie (exited, not yet reaped) holds nothing any more.
        return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    });
    if (left.length === 0) return;
    if (Date.now() > deadline) return left.forEach((pid) => tryKill(pid, 'SIGKILL'));
    await sleep(20);
  }
}

/**
 * Runs `postgres` under a small shell watchdog that holds the test process's end of a pipe. When
 * the pipe closes without the word `keep` (the test process died, even by SIGKILL or a timeout,
 * when no exit hook runs), it shuts the server down (waking it first, should it be frozen) and
 * deletes its files. The wrapper's exit is the server's.
 */
const WATCHDOG = [
  'dir="$1"; pg="$2"; shift 2',
  'exec 3<&0',
  '"$pg" "$@" </dev/null 3<&- & pid=$!',
  '(',
  '  if [ "$(cat <&3)" != keep ]; then',
  '    kill -INT "$pid"; kill -CONT "$pid"; pkill -CONT -P "$pid"',
  '    while kill -0 "$pid"; do sleep 0.1; done',
  '    rm -rf "$dir"',
  '  fi',
  ') >/dev/null 2>&1 &',
  'exec 3<&-',
  'wait "$pid"',
].join('\n');

/** Starts the server (see WATCHDOG); resolves to the wrapper and the postmaster's PID once it answers. */
async function launch(binary: string, args: string[], user: RunAs, config: PoolConfig, data: string): Promise<{ child: ChildProcess; pid: number }> {
  // detached: not in the test runner's process group (a Ctrl-C there is not a server crash).
  const child = spawn('sh', ['-c', WATCHDOG, 'sh', path.dirname(data), binary, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    ...user,
  });
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
      throw new Error(`postgres on port ${config.port} exited at startup:\n${output}`);
    }
    if (await answers(config)) {
      // The postmaster's PID, as it wrote it (first line of postmaster.pid).
      const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return { child, pid };
    }
    if (Date.now() > deadline) {
      child.stdin!.end(); // the watchdog stops it
      throw new Error(`postgres on port ${config.port} did not answer within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(50);
  }
}

async function answers(config: PoolConfig): Promise<boolean> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function run(command: string, args: string[], user: RunAs, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, ...user }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

export { sleep };
