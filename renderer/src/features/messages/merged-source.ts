/**
 * The unified inbox: several folders' messages merged into one list, newest first. Each folder is
 * read in pages in the same order; the merge takes the newest head each time, so the first rows
 * appear after one page per folder, and scrolling further reads further pages as needed.
 */
import type { MessagePage } from '../../../../shared/api';
import { toErrorPayload, type ErrorPayload } from '../../../../shared/errors';
import type { MessageSummary } from '../../../../shared/model';
import { Emitter, entry, type ListEntry, type RowSource } from './row-source';

const MERGE_PAGE_SIZE = 200;

interface Stream {
  fetch: (offset: number, limit: number) => Promise<MessagePage>;
  buffer: MessageSummary[];
  offset: number;
  total: number | null;
}

function newer(left: MessageSummary, right: MessageSummary): boolean {
  const leftTime = left.date === null ? 0 : Date.parse(left.date);
  const rightTime = right.date === null ? 0 : Date.parse(right.date);
  return leftTime > rightTime || (leftTime === rightTime && left.id < right.id);
}

export class MergedSource implements RowSource {
  private readonly emitter = new Emitter();
  private streams: Stream[];
  private merged: ListEntry[] = [];
  /** The rows from before an invalidation, shown until the new merge has caught up with them. */
  private stale: ListEntry[] = [];
  private lastError: ErrorPayload | null = null;
  private target = 0;
  private running: Promise<void> | null = null;
  private disposed = false;
  private generation = 0;

  constructor(private readonly fetchers: ((offset: number, limit: number) => Promise<MessagePage>)[]) {
    this.streams = this.freshStreams();
    this.want(0, 0);
  }

  private freshStreams(): Stream[] {
    return this.fetchers.map((fetch) => ({ fetch, buffer: [], offset: 0, total: null }));
  }

  total(): number | null {
    if (this.streams.some((stream) => stream.total === null)) return this.streams.length === 0 ? 0 : null;
    return this.streams.reduce((sum, stream) => sum + (stream.total ?? 0), 0);
  }

  error(): ErrorPayload | null {
    return this.lastError;
  }

  row(index: number): ListEntry | undefined {
    return this.merged[index] ?? this.stale[index];
  }

  want(_start: number, end: number): void {
    this.target = Math.max(this.target, end + 1);
    void this.fill();
  }

  async rowsBetween(start: number, end: number): Promise<ListEntry[]> {
    this.target = Math.max(this.target, end + 1);
    await this.fill();
    return this.merged.slice(start, end + 1);
  }

  invalidate(): void {
    this.generation += 1;
    this.stale = this.merged;
    this.merged = [];
    this.streams = this.freshStreams();
    this.target = Math.max(this.stale.length, 1);
    this.running = null;
    void this.fill().then(() => {
      this.stale = [];
      this.emitter.emit();
    });
  }

  subscribe(listener: () => void): () => void {
    return this.emitter.subscribe(listener);
  }

  dispose(): void {
    this.disposed = true;
  }

  private fill(): Promise<void> {
    if (this.running === null) {
      const generation = this.generation;
      this.running = this.run(generation).finally(() => {
        if (generation === this.generation) this.running = null;
      });
    }
    return this.running;
  }

  private async run(generation: number): Promise<void> {
    try {
      while (!this.disposed && generation === this.generation && this.merged.length < this.target) {
        const empty = this.streams.filter(
          (stream) => stream.buffer.length === 0 && (stream.total === null || stream.offset < stream.total),
        );
        if (empty.length > 0) {
          await Promise.all(empty.map((stream) => this.readPage(stream)));
          if (generation !== this.generation) return;
          this.emitter.emit();
          continue;
        }
        let best: Stream | null = null;
        for (const stream of this.streams) {
          const head = stream.buffer[0];
          if (head !== undefined && (best === null || newer(head, best.buffer[0]))) best = stream;
        }
        if (best === null) break;
        this.merged.push(entry(best.buffer.shift() as MessageSummary));
      }
      this.lastError = null;
    } catch (error) {
      this.lastError = toErrorPayload(error);
    }
    if (!this.disposed && generation === this.generation) this.emitter.emit();
  }

  private async readPage(stream: Stream): Promise<void> {
    const page = await stream.fetch(stream.offset, MERGE_PAGE_SIZE);
    stream.total = page.total;
    stream.offset += page.items.length;
    stream.buffer.push(...page.items);
    // A folder that shrank under us: stop reading it rather than loop.
    if (page.items.length === 0) stream.total = stream.offset;
  }
}

/** A fixed list (search results). */
export class ArraySource implements RowSource {
  private readonly emitter = new Emitter();
  private readonly entries: ListEntry[];
  constructor(
    messages: MessageSummary[],
    private readonly failure: ErrorPayload | null = null,
  ) {
    this.entries = messages.map(entry);
  }
  total(): number | null {
    return this.entries.length;
  }
  error(): ErrorPayload | null {
    return this.failure;
  }
  row(index: number): ListEntry | undefined {
    return this.entries[index];
  }
  want(): void {}
  async rowsBetween(start: number, end: number): Promise<ListEntry[]> {
    return this.entries.slice(start, end + 1);
  }
  invalidate(): void {}
  subscribe(listener: () => void): () => void {
    return this.emitter.subscribe(listener);
  }
  dispose(): void {}
}
