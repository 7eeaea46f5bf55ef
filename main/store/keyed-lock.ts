/**
 * Serializes async work per key (a message id): two operations on the same message file, such
 * as a flag change racing a move, must not interleave their rename and their index update.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Runs `work` holding the locks of all `keys`. They are taken one after the other in sorted
   * order, so two callers that each hold several keys can never wait for each other in a cycle.
   */
  runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const holding = (index: number): Promise<T> =>
      index === sorted.length ? work() : this.run(sorted[index], () => holding(index + 1));
    return holding(0);
  }
}
