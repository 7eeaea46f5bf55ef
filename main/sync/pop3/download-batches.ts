/**
 * The disk side of a pipelined POP3 download: messages arriving from `retrieveMany` are gathered
 * into batches, and each batch is stored by the store's batch path (files written and fsynced in
 * parallel, one directory fsync, ONE durable index commit: MessageStore.insertMessageBatch) while
 * the RETRs of the next batch keep arriving. At most one batch is being stored and one being
 * filled, so memory stays bounded by two batches plus the client's pipelining window.
 *
 * A message counts (noteStored, progress) only once its batch is committed. `add` waits when the
 * batch it fills is full and the one before is still being stored: that is the backpressure that
 * keeps the network from running ahead of the disk.
 */

/** Most messages in one batch (one index commit). */
export const BATCH_MAX_MESSAGES = 128;
/** Most bytes in one batch; with the batch being stored and the pipelining window, bounds memory. */
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

export interface BatchLimits {
  messages: number;
  bytes: number;
}

export class DownloadBatches<T extends { bytes: Buffer }> {
  private filling: T[] = [];
  private fillingBytes = 0;
  /** The batch being stored; rejects with the store's error. */
  private storing: Promise<void> | null = null;
  /** The first error of a store, kept until `add` or `drain` reports it. */
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly store: (batch: readonly T[]) => Promise<void>,
    private readonly limits: BatchLimits = { messages: BATCH_MAX_MESSAGES, bytes: BATCH_MAX_BYTES },
  ) {}

  /** Queues one message; resolves once it may take the next (a full batch was handed on). */
  async add(item: T): Promise<void> {
    this.throwIfFailed();
    this.filling.push(item);
    this.fillingBytes += item.bytes.length;
    if (this.filling.length >= this.limits.messages || this.fillingBytes >= this.limits.bytes) {
      await this.handOn();
    }
  }

  /** Stores whatever is queued and waits until every batch is committed; throws a store's error. */
  async drain(): Promise<void> {
    await this.handOn();
    await this.settle();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private async settle(): Promise<void> {
    const storing = this.storing;
    if (storing === null) return;
    await storing.catch((error: unknown) => {
      this.failure ??= { error };
    });
    if (this.storing === storing) this.storing = null;
  }

  /** Waits for the batch being stored, then starts storing the one filled meanwhile. */
  private async handOn(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
    if (this.filling.length === 0) return;
    const batch = this.filling;
    this.filling = [];
    this.fillingBytes = 0;
    const storing = this.store(batch);
    storing.catch(() => undefined); // observed by settle()
    this.storing = storing;
  }
}
