/**
 * What the virtualized list reads its rows from. A source fetches lazily: the list says which rows
 * are on screen (`want`), reads whatever is loaded (`row`), and re-renders when the source tells it
 * something changed. Sources never hold more than what was asked for.
 */
import type { ErrorPayload } from '../../../../shared/errors';
import type { MessageSummary } from '../../../../shared/model';

export interface ThreadInfo {
  key: string;
  /** Messages in the thread (this row included). */
  size: number;
  expanded: boolean;
}

export interface ListEntry {
  message: MessageSummary;
  /** 0 for a message or a thread's first row, 1 for the other messages of an expanded thread. */
  depth: number;
  /** On the first row of a thread with more than one message. */
  thread: ThreadInfo | null;
}

export interface RowSource {
  /** Rows in the list; null until the first answer. */
  total(): number | null;
  error(): ErrorPayload | null;
  row(index: number): ListEntry | undefined;
  /** The rows on screen (inclusive): the source loads what it does not have. */
  want(start: number, end: number): void;
  /** All rows in the range, loading what is missing (for range selection); at most `limit`. */
  rowsBetween(start: number, end: number): Promise<ListEntry[]>;
  /** The data behind the rows changed: fetch again what is on screen. */
  invalidate(): void;
  /** Threaded sources only. */
  toggleThread?(key: string): void;
  subscribe(listener: () => void): () => void;
  dispose(): void;
}

/** Listener bookkeeping shared by the sources. */
export class Emitter {
  private readonly listeners = new Set<() => void>();
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export function entry(message: MessageSummary): ListEntry {
  return { message, depth: 0, thread: null };
}
