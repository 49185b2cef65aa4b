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
  lines: string[][];
}

/** Parses one MONITOR line: `+1712345678.123456 [0 127.0.0.1:5000] "SET" "key" ...`. */
function parseMonitorLine(line: string): string[] | undefined {
  if (!line.startsWith('+') || !line.includes('] "')) return undefined;
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  const body = line.slice(line.indexOf('] "') + 2);
  for (let m = re.exec(body); m; m = re.exec(body)) args.push(m[1]!);
  return args;
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
                const args = parseMonitorLine(line);
                if (args) tap.lines.push(args);
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
   * Runs `action` and returns the commands (upper-cased name first, then arguments as MONITOR
   * prints them) that all monitored nodes received meanwhile, ioredis background traffic excluded.
   */
  async record<T>(action: () => Promise<T>): Promise<{ result: T; commands: string[][] }> {
    const begin = await this.mark('begin');
    const result = await action();
    const end = await this.mark('end');
    const commands: string[][] = [];
    for (const tap of this.taps) {
      const from = tap.lines.findIndex((a) => a[0]?.toUpperCase() === 'ECHO' && a[1] === begin);
      const to = tap.lines.findIndex((a) => a[0]?.toUpperCase() === 'ECHO' && a[1] === end);
      for (const args of tap.lines.slice(from + 1, to)) {
        const name = args[0]!.toUpperCase();
        if (BACKGROUND.has(name)) continue;
        commands.push([name, ...args.slice(1)]);
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
    while (!this.taps.every((tap) => tap.lines.some((a) => a[0]?.toUpperCase() === 'ECHO' && a[1] === marker))) {
      if (Date.now() > deadline) throw new Error(`MONITOR did not report marker ${marker} within 3 s`);
      await sleep(5);
    }
    return marker;
  }

  close(): void {
    for (const tap of this.taps) tap.socket.destroy();
  }
}

/** Only the command names, for readable assertions. */
export const names = (commands: string[][]) => commands.map((c) => c[0]);

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
