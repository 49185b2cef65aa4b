import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineQueue } from '../../../src/redis/deadline-queue.js';

describe('DeadlineQueue', () => {
  it('expires what is still pending once its budget is spent, in the order it started', async () => {
    const queue = new DeadlineQueue(40);
    const expired: string[] = [];
    const started = Date.now();
    queue.add(() => expired.push(`a@${Date.now() - started}`));
    await sleep(15);
    queue.add(() => expired.push(`b@${Date.now() - started}`));
    await sleep(80);
    expect(expired.map((e) => e.split('@')[0])).toEqual(['a', 'b']);
    // Each one after its own budget, not before (the shared timer re-arms for the next deadline).
    const [a, b] = expired.map((e) => Number(e.split('@')[1]));
    expect(a).toBeGreaterThanOrEqual(39);
    expect(b).toBeGreaterThanOrEqual(15 + 39);
  });

  it('never expires an operation that settled in time', async () => {
    const queue = new DeadlineQueue(20);
    const expired: string[] = [];
    const first = queue.add(() => expired.push('first'));
    queue.add(() => expired.push('second'));
    queue.settle(first);
    await sleep(50);
    expect(expired).toEqual(['second']);
  });

  it('arms again after going idle', async () => {
    const queue = new DeadlineQueue(10);
    const expired: number[] = [];
    queue.settle(queue.add(() => expired.push(1)));
    await sleep(30);
    queue.add(() => expired.push(2));
    await sleep(30);
    expect(expired).toEqual([2]);
  });
});
