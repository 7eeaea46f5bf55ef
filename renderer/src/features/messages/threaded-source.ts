/**
 * Conversations: the folder's messages grouped by threadId, each thread shown by its first message
 * in the chosen order, with the rest of the thread below it when expanded. Grouping needs every
 * message of the folder, so it is offered up to THREADING_LIMIT messages (until the service can
 * group for us); bigger folders stay flat.
 */
import type { MessageSummary } from '../../../../shared/model';
import { toErrorPayload, type ErrorPayload } from '../../../../shared/errors';
import { Emitter, type ListEntry, type RowSource } from './row-source';

export const THREADING_LIMIT = 5_000;

export function groupThreads(messages: MessageSummary[], expanded: ReadonlySet<string>): ListEntry[] {
  const threads = new Map<string, MessageSummary[]>();
  for (const message of messages) {
    const key = message.threadId ?? `message:${message.id}`;
    const members = threads.get(key);
    if (members === undefined) threads.set(key, [message]);
    else members.push(message);
  }
  const rows: ListEntry[] = [];
  // Map keeps insertion order: threads appear where their first message sorts.
  for (const [key, members] of threads) {
    const open = expanded.has(key);
    rows.push({
      message: members[0],
      depth: 0,
      thread: members.length > 1 ? { key, size: members.length, expanded: open } : null,
    });
    if (open) for (const member of members.slice(1)) rows.push({ message: member, depth: 1, thread: null });
  }
  return rows;
}

export class ThreadedSource implements RowSource {
  private readonly emitter = new Emitter();
  private messages: MessageSummary[] | null = null;
  private rows: ListEntry[] = [];
  private readonly expanded = new Set<string>();
  private lastError: ErrorPayload | null = null;
  private disposed = false;
  private generation = 0;

  constructor(private readonly loadAll: () => Promise<MessageSummary[]>) {
    void this.load();
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const messages = await this.loadAll();
      if (this.disposed || generation !== this.generation) return;
      this.messages = messages;
      this.rows = groupThreads(messages, this.expanded);
      this.lastError = null;
    } catch (error) {
      this.lastError = toErrorPayload(error);
    }
    if (!this.disposed) this.emitter.emit();
  }

  total(): number | null {
    return this.messages === null ? null : this.rows.length;
  }
  /** Messages and conversations, for the pane's count. */
  counts(): { messages: number; threads: number } | null {
    if (this.messages === null) return null;
    return { messages: this.messages.length, threads: this.rows.filter((row) => row.depth === 0).length };
  }
  error(): ErrorPayload | null {
    return this.lastError;
  }
  row(index: number): ListEntry | undefined {
    return this.rows[index];
  }
  want(): void {}
  async rowsBetween(start: number, end: number): Promise<ListEntry[]> {
    return this.rows.slice(start, end + 1);
  }
  invalidate(): void {
    void this.load();
  }
  toggleThread(key: string): void {
    if (this.expanded.has(key)) this.expanded.delete(key);
    else this.expanded.add(key);
    if (this.messages !== null) this.rows = groupThreads(this.messages, this.expanded);
    this.emitter.emit();
  }
  subscribe(listener: () => void): () => void {
    return this.emitter.subscribe(listener);
  }
  dispose(): void {
    this.disposed = true;
  }
}
