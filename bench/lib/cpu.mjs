// CPU accounting from /proc (Linux): the server's own CPU time per request, and the share of
// the machine's CPU used by processes outside the bench while a run lasted.
import { readFileSync } from 'node:fs';

const TICK = 1 / 100; // USER_HZ: /proc reports clock ticks of 10 ms on Linux

/** utime + stime of a process, and stime alone (time in the kernel: socket writes and reads), in seconds. */
function processCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces, inside parentheses).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { total: (Number(fields[11]) + Number(fields[12])) * TICK, kernel: Number(fields[12]) * TICK };
  } catch {
    return { total: 0, kernel: 0 };
  }
}

/** Busy and total CPU seconds of the whole machine. */
function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3] + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) * TICK, total: total * TICK };
}

export function cpuSnapshot(pids) {
  return { machine: machineCpu(), self: process.cpuUsage(), pids: Object.fromEntries(pids.map((pid) => [pid, processCpu(pid)])) };
}

export function cpuBetween(before, after, serverPid, redisPid) {
  const server = after.pids[serverPid].total - before.pids[serverPid].total;
  const serverKernel = after.pids[serverPid].kernel - before.pids[serverPid].kernel;
  const redis = after.pids[redisPid].total - before.pids[redisPid].total;
  const self = (after.self.user + after.self.system - before.self.user - before.self.system) / 1e6;
  const busy = after.machine.busy - before.machine.busy;
  const total = after.machine.total - before.machine.total;
  const foreign = Math.max(0, busy - server - redis - self);
  return { server, serverKernel, redis, self, foreignShare: total > 0 ? foreign / total : 0 };
}

/**
 * Waits (up to `timeout` ms) until the machine is quiet: less than `maxShare` of all CPUs busy
 * over a `window` ms sample, while the bench's own processes are idle between runs. Other jobs
 * on a shared 2-core machine (test suites, builds) distort a run far more than noise does.
 * Resolves to the last busy share measured.
 */
export async function waitForQuiet({ maxShare = 0.15, window = 250, timeout = 20_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const a = machineCpu();
    await new Promise((r) => setTimeout(r, window));
    const b = machineCpu();
    const share = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
    if (share <= maxShare || Date.now() >= deadline) return share;
  }
}
