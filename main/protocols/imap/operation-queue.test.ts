import { describe, expect, it } from 'vitest';
import { OperationQueue } from './operation-queue';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('OperationQueue', () => {
  it('runs operations one at a time, in order, even when one fails', async () => {
    const queue = new OperationQueue();
    const log: string[] = [];
    const task = (name: string, fail = false) =>
      queue.run(async () => {
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('asks a long-running holder to yield when another operation waits', async () => {
    const queue = new OperationQueue();
    let interrupts = 0;
    let release: () => void = () => undefined;
    const holder = queue.run(async () => {
      const stop = queue.onContention(() => {
        interrupts += 1;
        release();
      });
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      stop();
      return 'holder done';
    });
    await tick();
    expect(interrupts).toBe(0);
    const waiting = queue.run(async () => 'next');
    expect(await holder).toBe('holder done');
    expect(await waiting).toBe('next');
    expect(interrupts).toBe(1);
    expect(queue.waiting).toBe(0);
  });
});
