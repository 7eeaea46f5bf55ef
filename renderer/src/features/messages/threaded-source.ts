/**
 * Conversations, grouped by the service for a folder of any size: one row per conversation (its
 * newest message in the folder, with the conversation's counts), read page by page like a flat
 * folder. Expanding a conversation loads its other messages in the folder and shows them below
 * its row; rows of the list are then conversations and expanded messages interleaved.
 */
import type { MessagePage, ThreadCounts } from '../../../../shared/api';
import { toErrorPayload, type ErrorPayload } from '../../../../shared/errors';
import type { MessageSummary } from '../../../../shared/model';
import { MessagePager, PAGE_SIZE } from './message-pager';
import { Emitter, type ListEntry, type RowSource } from './row-source';

/** A page of conversations: listMessages with `threads: true`. */
export type FetchConversations = (offset: number, limit: number) => Promise<MessagePage>;
/**
 * Every message of one conversation in the folder, newest first (by date, then id, like the
 * service picks the message that stands for the conversation): the first is the listed one.
 */
export type FetchConversation = (threadId: string) => Promise<MessageSummary[]>;

interface Expansion {
  key: string;
  /** Where the conversation is among the conversations; null once it is no longer known. */
  index: number | null;
  /** The conversation's messages below its row (its listed message excluded); null while loading. */
  members: MessageSummary[] | null;
  /** Rows below the conversation's row: the members, or the expected count while they load. */
  extra: number;
  generation: number;
}

export class ThreadedSource implements RowSource {
  private readonly emitter = new Emitter();
  private readonly pager: MessagePager;
  /** Counts of the conversations seen in pages, by key (bounded by the pages read). */
  private readonly conversationCounts = new Map<string, ThreadCounts>();
  /** Where each conversation seen in a page is, by key. */
  private readonly positions = new Map<string, number>();
  private readonly expansions = new Map<string, Expansion>();
  private messageTotal: number | null = null;
  private memberError: ErrorPayload | null = null;
  private disposed = false;
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(
    fetchPage: FetchConversations,
    private readonly fetchMembers: FetchConversation,
    pageSize = PAGE_SIZE,
  ) {
    this.pager = new MessagePager(async (offset, limit) => {
      const answer = await fetchPage(offset, limit);
      this.noteConversations(answer);
      return answer;
    }, pageSize);
    this.unsubscribe = this.pager.subscribe(() => this.emitter.emit());
  }

  /** Remembers the counts and places of a page's conversations, and moves or drops expansions. */
  private noteConversations(answer: MessagePage): void {
    if (answer.messages !== undefined) this.messageTotal = answer.messages;
    const keys = new Set<string>();
    answer.items.forEach((item, index) => {
      const key = keyOf(item);
      keys.add(key);
      this.positions.set(key, answer.offset + index);
      const counts = answer.threads?.[index];
      if (counts !== undefined) this.conversationCounts.set(key, counts);
    });
    const end = answer.offset + answer.items.length;
    for (const expansion of this.expansions.values()) {
      if (keys.has(expansion.key)) expansion.index = this.positions.get(expansion.key) ?? null;
      // Its place now shows another conversation: it moved somewhere not loaded yet.
      else if (expansion.index !== null && expansion.index >= answer.offset && expansion.index < end) {
        expansion.index = null;
      }
    }
  }

  /** Expansions whose place is known, in list order. */
  private placed(): Expansion[] {
    return [...this.expansions.values()]
      .filter((expansion) => expansion.index !== null)
      .sort((left, right) => (left.index as number) - (right.index as number));
  }

  /** The conversation (its index) a row belongs to, and the member it shows (-1: the conversation's row). */
  private locate(row: number): { thread: number; member: number; expansion: Expansion | null } {
    let shift = 0;
    for (const expansion of this.placed()) {
      const index = expansion.index as number;
      const rowOfThread = index + shift;
      if (row <= rowOfThread) break;
      if (row <= rowOfThread + expansion.extra) return { thread: index, member: row - rowOfThread - 1, expansion };
      shift += expansion.extra;
    }
    return { thread: row - shift, member: -1, expansion: null };
  }

  /** The row of a conversation (by its index among conversations). */
  private rowOf(thread: number): number {
    let row = thread;
    for (const expansion of this.placed()) if ((expansion.index as number) < thread) row += expansion.extra;
    return row;
  }

  private decorate(entry: ListEntry): ListEntry {
    const key = keyOf(entry.message);
    const size = this.conversationCounts.get(key)?.messages ?? 1;
    const expanded = this.expansions.has(key);
    return { ...entry, thread: size > 1 || expanded ? { key, size, expanded } : null };
  }

  total(): number | null {
    const threads = this.pager.total();
    if (threads === null) return null;
    return threads + this.placed().reduce((sum, expansion) => sum + expansion.extra, 0);
  }

  /** Messages and conversations, for the pane's count. */
  counts(): { messages: number; threads: number } | null {
    const threads = this.pager.total();
    if (threads === null) return null;
    return { messages: this.messageTotal ?? threads, threads };
  }

  error(): ErrorPayload | null {
    return this.pager.error() ?? this.memberError;
  }

  row(index: number): ListEntry | undefined {
    const { thread, member, expansion } = this.locate(index);
    if (expansion !== null) {
      const message = expansion.members?.[member];
      return message === undefined ? undefined : { message, depth: 1, thread: null };
    }
    const entry = this.pager.row(thread);
    return entry === undefined ? undefined : this.decorate(entry);
  }

  want(start: number, end: number): void {
    this.pager.want(this.locate(start).thread, this.locate(end).thread);
  }

  async rowsBetween(start: number, end: number): Promise<ListEntry[]> {
    const first = this.locate(start).thread;
    const last = this.locate(end).thread;
    const threads = await this.pager.rowsBetween(first, last);
    await Promise.all(
      this.placed()
        .filter((expansion) => expansion.members === null)
        .map((expansion) => this.loadMembers(expansion)),
    );
    const rows: ListEntry[] = [];
    threads.forEach((entry, offset) => {
      rows.push(this.decorate(entry));
      const expansion = this.expansions.get(keyOf(entry.message));
      if (expansion !== undefined && expansion.index === first + offset) {
        for (const message of expansion.members ?? []) rows.push({ message, depth: 1, thread: null });
      }
    });
    const base = this.rowOf(first);
    return rows.slice(start - base, end - base + 1);
  }

  invalidate(): void {
    this.generation += 1;
    this.pager.invalidate();
    // An expanded conversation may have grown or shrunk: its messages are read again.
    for (const expansion of this.expansions.values()) void this.loadMembers(expansion);
  }

  toggleThread(key: string): void {
    if (this.expansions.delete(key)) {
      this.emitter.emit();
      return;
    }
    const expansion: Expansion = {
      key,
      index: this.positions.get(key) ?? null,
      members: null,
      extra: Math.max(0, (this.conversationCounts.get(key)?.messages ?? 1) - 1),
      generation: -1,
    };
    this.expansions.set(key, expansion);
    this.emitter.emit();
    void this.loadMembers(expansion);
  }

  subscribe(listener: () => void): () => void {
    return this.emitter.subscribe(listener);
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    this.pager.dispose();
  }

  private async loadMembers(expansion: Expansion): Promise<void> {
    const generation = this.generation;
    if (expansion.generation === generation && expansion.members !== null) return;
    try {
      const messages = await this.fetchMembers(expansion.key);
      if (this.disposed || this.expansions.get(expansion.key) !== expansion || generation !== this.generation) return;
      // The conversation's row shows its newest message (the first); the others go below it.
      expansion.members = messages.slice(1);
      expansion.extra = expansion.members.length;
      expansion.generation = generation;
      this.memberError = null;
    } catch (error) {
      if (this.disposed) return;
      this.memberError = toErrorPayload(error);
    }
    this.emitter.emit();
  }
}

function keyOf(message: MessageSummary): string {
  return message.threadId ?? `message:${message.id}`;
}
