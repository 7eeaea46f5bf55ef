/**
 * A folder's messages, one page of `listMessages` at a time: only the pages around what is on
 * screen are fetched, so a folder of 100,000 messages costs a few requests, never all of them.
 * After a change (messagesChanged) the pages on screen are fetched again and shown when they
 * arrive; until then the previous rows stay, so the list does not flash.
 */
import type { MessagePage } from '../../../../shared/api';
import { toErrorPayload, type ErrorPayload } from '../../../../shared/errors';
import { Emitter, entry, type ListEntry, type RowSource } from './row-source';

export const PAGE_SIZE = 100;
/** Pages kept beyond those on screen, so scrolling back does not refetch at once. */
const KEPT_PAGES = 40;
const MAXIMUM_PARALLEL_FETCHES = 3;

export type FetchPage = (offset: number, limit: number) => Promise<MessagePage>;

interface CachedPage {
  generation: number;
  items: ListEntry[];
  usedAt: number;
}

export class MessagePager implements RowSource {
  private readonly emitter = new Emitter();
  private readonly pages = new Map<number, CachedPage>();
  private readonly inFlight = new Map<number, number>();
  private readonly queue: number[] = [];
  private knownTotal: number | null = null;
  private lastError: ErrorPayload | null = null;
  private generation = 0;
  private wanted: [number, number] = [0, 0];
  private disposed = false;
  private clock = 0;

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly pageSize = PAGE_SIZE,
  ) {
    this.want(0, 0);
  }

  total(): number | null {
    return this.knownTotal;
  }

  error(): ErrorPayload | null {
    return this.lastError;
  }

  row(index: number): ListEntry | undefined {
    const page = this.pages.get(Math.floor(index / this.pageSize));
    if (page === undefined) return undefined;
    page.usedAt = ++this.clock;
    return page.items[index % this.pageSize];
  }

  want(start: number, end: number): void {
    const previousStart = this.wanted[0];
    this.wanted = [start, end];
    // Pages queued for rows scrolled past are no longer needed.
    this.queue.length = 0;
    const first = Math.floor(Math.max(0, start) / this.pageSize);
    const last = Math.floor(Math.max(start, end) / this.pageSize);
    for (let page = first; page <= last; page += 1) this.request(page);
    // Scrolling on, the next page in that direction once the rows on screen come within a quarter
    // page of it: its rows are there when they scroll in, not placeholders replaced a few frames
    // later (a second render of every row on screen in the middle of the scroll).
    const ahead = Math.ceil(this.pageSize / 4);
    if (start > previousStart) {
      const next = Math.floor((Math.max(start, end) + ahead) / this.pageSize);
      if (next > last) this.request(next);
    } else if (start < previousStart && start > 0) {
      const before = Math.floor(Math.max(0, start - ahead) / this.pageSize);
      if (before < first) this.request(before);
    }
    this.pump();
  }

  async rowsBetween(start: number, end: number): Promise<ListEntry[]> {
    const first = Math.floor(start / this.pageSize);
    const last = Math.floor(end / this.pageSize);
    const rows: ListEntry[] = [];
    for (let page = first; page <= last; page += 1) {
      let cached = this.pages.get(page);
      if (cached === undefined || cached.generation !== this.generation) {
        const answer = await this.fetchPage(page * this.pageSize, this.pageSize);
        cached = this.store(page, answer, this.generation);
      }
      const from = page === first ? start % this.pageSize : 0;
      const to = page === last ? (end % this.pageSize) + 1 : this.pageSize;
      rows.push(...cached.items.slice(from, to));
    }
    return rows;
  }

  invalidate(): void {
    this.generation += 1;
    // Pages off screen are dropped; those on screen stay visible until their refetch lands.
    const [start, end] = this.wanted;
    const first = Math.floor(start / this.pageSize);
    const last = Math.floor(Math.max(start, end) / this.pageSize);
    for (const page of [...this.pages.keys()]) if (page < first || page > last) this.pages.delete(page);
    this.want(start, end);
  }

  subscribe(listener: () => void): () => void {
    return this.emitter.subscribe(listener);
  }

  dispose(): void {
    this.disposed = true;
  }

  private request(page: number): void {
    const cached = this.pages.get(page);
    if (cached !== undefined && cached.generation === this.generation) return;
    if (this.inFlight.get(page) === this.generation || this.queue.includes(page)) return;
    if (this.knownTotal !== null && page * this.pageSize >= this.knownTotal && page > 0) return;
    this.queue.push(page);
  }

  private pump(): void {
    while (this.inFlight.size < MAXIMUM_PARALLEL_FETCHES && this.queue.length > 0) {
      const page = this.queue.shift() as number;
      void this.load(page, this.generation);
    }
  }

  private async load(page: number, generation: number): Promise<void> {
    this.inFlight.set(page, generation);
    try {
      const answer = await this.fetchPage(page * this.pageSize, this.pageSize);
      if (this.disposed) return;
      if (generation === this.generation) this.store(page, answer, generation);
      this.lastError = null;
    } catch (error) {
      if (this.disposed) return;
      this.lastError = toErrorPayload(error);
    } finally {
      if (this.inFlight.get(page) === generation) this.inFlight.delete(page);
    }
    if (this.disposed) return;
    this.emitter.emit();
    // A page asked for again while this one was loading under an older generation.
    const [start, end] = this.wanted;
    if (generation !== this.generation) this.want(start, end);
    else this.pump();
  }

  private store(page: number, answer: MessagePage, generation: number): CachedPage {
    this.knownTotal = answer.total;
    const cached = { generation, items: answer.items.map(entry), usedAt: ++this.clock };
    this.pages.set(page, cached);
    this.evict();
    return cached;
  }

  private evict(): void {
    if (this.pages.size <= KEPT_PAGES) return;
    const [start, end] = this.wanted;
    const first = Math.floor(start / this.pageSize);
    const last = Math.floor(end / this.pageSize);
    const candidates = [...this.pages.entries()]
      .filter(([page]) => page < first || page > last)
      .sort((left, right) => left[1].usedAt - right[1].usedAt);
    for (const [page] of candidates.slice(0, this.pages.size - KEPT_PAGES)) this.pages.delete(page);
  }
}
