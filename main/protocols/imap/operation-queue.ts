/**
 * Runs a session's operations one after another. An IMAP connection has one selected mailbox, so
 * two interleaved operations could each see the other's SELECT (a chunked download would fetch
 * UID 42 of the wrong folder). imapflow queues single commands but not sequences of them, so
 * every sequence that depends on the selected mailbox runs through here.
 *
 * A long-running holder (IDLE) registers an interrupt: when another operation starts waiting,
 * the holder is asked to finish (IDLE ends with DONE, RFC 2177) so that operation is not starved.
 */
export class OperationQueue {
  private tail: Promise<void> = Promise.resolve();
  private waitingCount = 0;
  private interrupt: (() => void) | null = null;

  /** Operations queued behind the one that runs now. */
  get waiting(): number {
    return this.waitingCount;
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release: () => void = () => undefined;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.waitingCount += 1;
    this.interrupt?.();
    try {
      await previous;
    } finally {
      this.waitingCount -= 1;
    }
    try {
      return await operation();
    } finally {
      release();
    }
  }

  /**
   * For the operation that runs now: `interrupt` is called (at once if someone already waits)
   * whenever another operation is queued. Returns the unregister function; call it before the
   * operation returns.
   */
  onContention(interrupt: () => void): () => void {
    this.interrupt = interrupt;
    if (this.waitingCount > 0) interrupt();
    return () => {
      if (this.interrupt === interrupt) this.interrupt = null;
    };
  }
}
