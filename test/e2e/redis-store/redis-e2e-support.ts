/**
 * Helpers for the Redis e2e suites: a MONITOR recorder (what the app's client really sends, per
 * request, with arguments) and small timing/polling utilities. Inspection uses its own sockets
 * (never the ioredis client under test).
 */
import net from 'node:net';
import { redisCommand, sleep } from '../../support/redis-server.js';

/** ioredis's own background traffic (Cluster slot refresh, ready check), never per request. */
const BACKGROUND = new Set(['CLUSTER', 'INFO']);

interface Tap {
  port: number;
  socket: net.Socket;
  buffer: string;
  lines: SeenCommand[];
}

/** One command as MONITOR reports it: name upper-cased, arguments as printed, and its origin. */
export interface SeenCommand {
  name: string;
  args: string[];
  /** Run by a Lua script (EVAL/EVALSHA) rather than sent by a client: not a round trip. */
  lua: boolean;
}

/** Parses one MONITOR line: `+1712345678.123456 [0 127.0.0.1:5000] "SET" "key" ...` (`[0 lua]` inside scripts). */
function parseMonitorLine(line: string): SeenCommand | undefined {
  if (!line.startsWith('+') || !line.includes('] "')) return undefined;
  const source = line.slice(line.indexOf('[') + 1, line.indexOf(']'));
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  const body = line.slice(line.indexOf('] "') + 2);
  for (let m = re.exec(body); m; m = re.exec(body)) args.push(m[1]!);
  if (args.length === 0) return undefined;
  return { name: args[0]!.toUpperCase(), args: args.slice(1), lua: /\blua\b/.test(source) };
}

/** Records the commands that reach one or more Redis nodes between two markers. */
export class CommandRecorder {
  private markerSeq = 0;

  private constructor(private readonly taps: Tap[]) {}

  static async open(ports: readonly number[]): Promise<CommandRecorder> {
    const taps = await Promise.all(
      ports.map(
        (port) =>
          new Promise<Tap>((resolve, reject) => {
            const socket = net.connect(port, '127.0.0.1');
            const tap: Tap = { port, socket, buffer: '', lines: [] };
            socket.once('error', reject);
            socket.on('data', (chunk) => {
              tap.buffer += chunk.toString('latin1');
              let eol: number;
              while ((eol = tap.buffer.indexOf('\r\n')) >= 0) {
                const line = tap.buffer.slice(0, eol);
                tap.buffer = tap.buffer.slice(eol + 2);
                if (line === '+OK') {
                  resolve(tap);
                  continue;
                }
                const seen = parseMonitorLine(line);
                if (seen) tap.lines.push(seen);
              }
            });
            socket.write('*1\r\n$7\r\nMONITOR\r\n');
          }),
      ),
    );
    for (const tap of taps) tap.socket.on('error', () => {});
    return new CommandRecorder(taps);
  }

  /**
   * Runs `action` and returns the commands that all monitored nodes received meanwhile (client
   * round trips and the commands scripts ran), ioredis background traffic excluded.
   */
  async record<T>(action: () => Promise<T>): Promise<{ result: T; commands: SeenCommand[] }> {
    const begin = await this.mark('begin');
    const result = await action();
    const end = await this.mark('end');
    const commands: SeenCommand[] = [];
    for (const tap of this.taps) {
      const from = tap.lines.findIndex((c) => isMarker(c, begin));
      const to = tap.lines.findIndex((c) => isMarker(c, end));
      for (const c of tap.lines.slice(from + 1, to)) {
        if (!BACKGROUND.has(c.name)) commands.push(c);
      }
      tap.lines.splice(0, to + 1);
    }
    return { result, commands };
  }

  /** Sends `ECHO <marker>` to every node and waits until every monitor has seen it. */
  private async mark(kind: string): Promise<string> {
    const marker = `sessionkit-${kind}-${++this.markerSeq}`;
    await Promise.all(this.taps.map((tap) => redisCommand(tap.port, ['ECHO', marker])));
    const deadline = Date.now() + 3000;
    while (!this.taps.every((tap) => tap.lines.some((c) => isMarker(c, marker)))) {
      if (Date.now() > deadline) throw new Error(`MONITOR did not report marker ${marker} within 3 s`);
      await sleep(5);
    }
    return marker;
  }

  close(): void {
    for (const tap of this.taps) tap.socket.destroy();
  }
}

const isMarker = (c: SeenCommand, marker: string) => c.name === 'ECHO' && c.args[0] === marker;

const READS = new Set(['GET', 'GETBUFFER', 'HGETALL', 'HGET', 'HMGET', 'MGET', 'EXISTS']);
const DATA_WRITES = new Set(['SET', 'SETEX', 'PSETEX', 'GETSET', 'HSET', 'HMSET', 'HSETNX', 'HDEL', 'APPEND', 'RESTORE', 'DEL', 'UNLINK']);
const TTL_WRITES = new Set(['PEXPIRE', 'EXPIRE', 'PEXPIREAT', 'EXPIREAT', 'PERSIST']);
const SCRIPTS = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL']);

/** What one request did to one session key, whatever the store's layout (string + SET, or hash + script). */
export interface KeyActivity {
  /** Client round trips (commands a script ran are not round trips). */
  roundTrips: SeenCommand[];
  /** Round trips that only read. */
  reads: SeenCommand[];
  /** Commands (client or script) that changed the data under the key. */
  dataWrites: SeenCommand[];
  /** Commands (client or script) that set or changed the TTL, including SET ... PX. */
  ttlWrites: SeenCommand[];
  /** TTL in ms the request gave the key (from SET PX or PEXPIRE), if any. */
  ttlMs: number | undefined;
  scripts: SeenCommand[];
}

function flag(c: SeenCommand, name: string): number {
  return c.args.findIndex((a) => a.toUpperCase() === name);
}

export function activityOn(commands: readonly SeenCommand[], key: string): KeyActivity {
  // Scripts name the key as their first key (EVALSHA sha numkeys key ...).
  const touchesKey = (c: SeenCommand) => (SCRIPTS.has(c.name) ? c.args[2] === key : c.args[0] === key);
  const mine = commands.filter(touchesKey);
  const roundTrips = mine.filter((c) => !c.lua);
  const dataWrites = mine.filter((c) => DATA_WRITES.has(c.name));
  const ttlWrites = mine.filter((c) => TTL_WRITES.has(c.name) || (c.name === 'SET' && (flag(c, 'PX') >= 0 || flag(c, 'EX') >= 0)));
  let ttlMs: number | undefined;
  for (const c of ttlWrites) {
    if (c.name === 'PEXPIRE') ttlMs = Number(c.args[1]);
    else if (c.name === 'EXPIRE') ttlMs = Number(c.args[1]) * 1000;
    else if (flag(c, 'PX') >= 0) ttlMs = Number(c.args[flag(c, 'PX') + 1]);
    else if (flag(c, 'EX') >= 0) ttlMs = Number(c.args[flag(c, 'EX') + 1]) * 1000;
  }
  return {
    roundTrips,
    reads: roundTrips.filter((c) => READS.has(c.name)),
    dataWrites,
    ttlWrites,
    ttlMs,
    scripts: roundTrips.filter((c) => SCRIPTS.has(c.name)),
  };
}

/** Whether a write round trip only writes when the record still exists (SET ... XX, or a script guarding with EXISTS). */
export function isConditionalWrite(trip: SeenCommand, all: readonly SeenCommand[], key: string): boolean {
  if (trip.name === 'SET') return flag(trip, 'XX') >= 0;
  if (!SCRIPTS.has(trip.name)) return false;
  const inScript = all.filter((c) => c.lua && c.args[0] === key);
  // A script is conditional when it first checks the key (EXISTS, or the GET of a merge that
  // returns when nothing is there) and never deletes it.
  return ['EXISTS', 'GET'].includes(inScript[0]?.name ?? '') && !inScript.some((c) => c.name === 'DEL' || c.name === 'UNLINK');
}

/** A readable summary, binary values left out: `GET | SET PX 60000 XX`, script commands in brackets. */
export function summary(commands: readonly SeenCommand[]): string {
  return commands
    .map((c) => {
      const shown = c.name === 'SET' ? [c.name, ...c.args.slice(2)] : SCRIPTS.has(c.name) ? [c.name] : ['PEXPIRE', 'EXPIRE'].includes(c.name) ? [c.name, c.args[1]] : [c.name];
      return c.lua ? `[${shown.join(' ')}]` : shown.join(' ');
    })
    .join(', ');
}

/** Settles `promise` and reports how long it took. */
export async function timed<T>(promise: PromiseLike<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await promise;
  return { ms: performance.now() - start, value };
}

/** Retries `probe` (every 100 ms) until it returns true, at most `withinMs`; returns the time it took. */
export async function pollUntil(probe: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(100);
  }
}

/** A promise to release later, and a signal that the slow route reached its wait. */
export class Gate {
  private release!: () => void;
  private signalArrived!: () => void;
  readonly released: Promise<void>;
  readonly arrived: Promise<void>;

  constructor() {
    this.released = new Promise((resolve) => (this.release = resolve));
    this.arrived = new Promise((resolve) => (this.signalArrived = resolve));
  }

  /** Called by the route once its session is loaded. */
  async wait(): Promise<void> {
    this.signalArrived();
    await this.released;
  }

  open(): void {
    this.release();
  }
}
