import { describe, expect, it } from 'vitest';
import type { ListMessagesRequest, MessagePage } from '../../../../shared/api';
import type { MessageSummary } from '../../../../shared/model';
import { MergedSource } from './merged-source';
import { MessagePager } from './message-pager';
import type { ListEntry } from './row-source';
import { ThreadedSource } from './threaded-source';

function message(id: string, date: string, threadId: string | null = null): MessageSummary {
  return {
    id,
    accountId: 'a',
    folderId: 'f',
    messageId: null,
    threadId,
    subject: id,
    from: null,
    to: [],
    date,
    size: 1,
    flags: [],
    residency: 'both',
    hasAttachments: false,
    preview: '',
  };
}

/** A folder of `total` messages that records what it is asked for. */
function folder(total: number, prefix = 'm') {
  const asked: Pick<ListMessagesRequest, 'offset' | 'limit'>[] = [];
  const fetch = async (offset: number, limit: number): Promise<MessagePage> => {
    asked.push({ offset, limit });
    const items = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, index) =>
      message(`${prefix}${offset + index}`, new Date(Date.UTC(2024, 0, 1) - (offset + index) * 60_000).toISOString()),
    );
    return { total, offset, items };
  };
  return { asked, fetch };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the paged source', () => {
  it('asks only for the pages on screen, never for the folder', async () => {
    const { asked, fetch } = folder(100_000);
    const pager = new MessagePager(fetch);
    await settle();
    expect(pager.total()).toBe(100_000);
    pager.want(54_321, 54_340);
    await settle();
    expect(asked).toEqual([
      { offset: 0, limit: 100 },
      { offset: 54_300, limit: 100 },
    ]);
    expect(pager.row(54_330)?.message.id).toBe('m54330');
    expect(pager.row(60_000)).toBeUndefined();
  });

  it('refetches what is on screen after a change and keeps showing the old rows meanwhile', async () => {
    const { asked, fetch } = folder(500);
    const pager = new MessagePager(fetch);
    await settle();
    pager.want(0, 20);
    await settle();
    asked.length = 0;
    pager.invalidate();
    expect(pager.row(3)?.message.id).toBe('m3');
    await settle();
    expect(asked).toEqual([{ offset: 0, limit: 100 }]);
  });
});

describe('the unified inbox', () => {
  it('merges folders newest first, reading each folder page by page', async () => {
    const first = folder(300, 'a');
    const second = folder(3, 'b');
    const merged = new MergedSource([first.fetch, second.fetch]);
    await settle();
    await settle();
    expect(merged.total()).toBe(303);
    const rows = await merged.rowsBetween(0, 5);
    expect(rows.map((row) => row.message.id)).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
    expect(second.asked).toHaveLength(1);
  });
});

/** A folder of `total` conversations; conversation i has i % 3 + 1 messages. */
function conversationFolder(total: number) {
  const asked: Pick<ListMessagesRequest, 'offset' | 'limit'>[] = [];
  const expanded: string[] = [];
  const day = (index: number) => new Date(Date.UTC(2024, 0, 1) - index * 60_000).toISOString();
  /** Conversations that arrived since, listed first (one message each). */
  const state = { arrived: 0 };
  const fetchPage = async (offset: number, limit: number): Promise<MessagePage> => {
    asked.push({ offset, limit });
    const length = Math.max(0, Math.min(limit, total + state.arrived - offset));
    const positions = Array.from({ length }, (_, index) => offset + index - state.arrived);
    return {
      total: total + state.arrived,
      offset,
      items: positions.map((index) =>
        index < 0 ? message(`n${-index}`, day(index), `tn${-index}`) : message(`c${index}`, day(index), `t${index}`),
      ),
      threads: positions.map((index) => ({ messages: index < 0 ? 1 : (index % 3) + 1, unread: 0 })),
      messages: total * 2 + state.arrived,
    };
  };
  const fetchMembers = async (threadId: string): Promise<MessageSummary[]> => {
    expanded.push(threadId);
    const index = Number(threadId.slice(1));
    return Array.from({ length: (index % 3) + 1 }, (_, member) =>
      message(member === 0 ? `c${index}` : `c${index}.${member}`, day(index), threadId),
    );
  };
  return { asked, expanded, state, fetchPage, fetchMembers };
}

const ids = (rows: (ListEntry | undefined)[]) => rows.map((row) => row?.message.id);

describe('conversations', () => {
  it('are read page by page from the service, for a folder of any size', async () => {
    const folder = conversationFolder(60_000);
    const source = new ThreadedSource(folder.fetchPage, folder.fetchMembers);
    await settle();
    expect(source.total()).toBe(60_000);
    expect(source.counts()).toEqual({ messages: 120_000, threads: 60_000 });
    source.want(40_010, 40_030);
    await settle();
    expect(folder.asked).toEqual([
      { offset: 0, limit: 100 },
      { offset: 40_000, limit: 100 },
    ]);
    expect(source.row(40_010)).toMatchObject({
      message: { id: 'c40010' },
      depth: 0,
      thread: { key: 't40010', size: 3, expanded: false },
    });
    // A conversation of one message is a plain row.
    expect(source.row(40_011)?.thread).toBeNull();
  });

  it('expand below their row, shifting the rows after them, and collapse again', async () => {
    const folder = conversationFolder(500);
    const source = new ThreadedSource(folder.fetchPage, folder.fetchMembers);
    await settle();
    source.want(0, 20);
    await settle();
    source.toggleThread('t2');
    await settle();
    expect(folder.expanded).toEqual(['t2']);
    expect(source.total()).toBe(502);
    expect(ids([0, 1, 2, 3, 4, 5].map((index) => source.row(index)))).toEqual(['c0', 'c1', 'c2', 'c2.1', 'c2.2', 'c3']);
    expect(source.row(2)?.thread).toEqual({ key: 't2', size: 3, expanded: true });
    expect(source.row(3)).toMatchObject({ depth: 1, thread: null });
    // Range selection across the expanded conversation.
    expect(ids(await source.rowsBetween(1, 5))).toEqual(['c1', 'c2', 'c2.1', 'c2.2', 'c3']);
    expect(ids(await source.rowsBetween(3, 4))).toEqual(['c2.1', 'c2.2']);
    source.toggleThread('t5');
    await settle();
    expect(ids([7, 8, 9, 10].map((index) => source.row(index)))).toEqual(['c5', 'c5.1', 'c5.2', 'c6']);
    source.toggleThread('t2');
    expect(source.total()).toBe(502);
    expect(ids([2, 3, 5, 6].map((index) => source.row(index)))).toEqual(['c2', 'c3', 'c5', 'c5.1']);
  });

  it('keep an expanded conversation open after a change, reading its messages again', async () => {
    const folder = conversationFolder(300);
    const source = new ThreadedSource(folder.fetchPage, folder.fetchMembers);
    await settle();
    source.want(0, 20);
    await settle();
    source.toggleThread('t5');
    await settle();
    source.invalidate();
    await settle();
    expect(folder.expanded).toEqual(['t5', 't5']);
    expect(ids([5, 6, 7, 8].map((index) => source.row(index)))).toEqual(['c5', 'c5.1', 'c5.2', 'c6']);
  });

  it('follow an expanded conversation that moved down when new ones arrived above it', async () => {
    const folder = conversationFolder(300);
    const source = new ThreadedSource(folder.fetchPage, folder.fetchMembers);
    await settle();
    source.want(0, 20);
    await settle();
    source.toggleThread('t5');
    await settle();
    folder.state.arrived = 2;
    source.invalidate();
    await settle();
    await settle();
    expect(source.total()).toBe(304);
    expect(ids([0, 1, 2, 7, 8, 9, 10].map((index) => source.row(index)))).toEqual([
      'n2',
      'n1',
      'c0',
      'c5',
      'c5.1',
      'c5.2',
      'c6',
    ]);
  });
});
