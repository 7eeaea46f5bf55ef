import { describe, expect, it } from 'vitest';
import type { ListMessagesRequest, MessagePage } from '../../../../shared/api';
import type { MessageSummary } from '../../../../shared/model';
import { MergedSource } from './merged-source';
import { MessagePager } from './message-pager';
import { groupThreads } from './threaded-source';

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

describe('conversations', () => {
  it('group by thread in the order of each thread’s first message, expanded on request', () => {
    const messages = [
      message('1', '2024-01-03', 't1'),
      message('2', '2024-01-02', 't2'),
      message('3', '2024-01-01', 't1'),
      message('4', '2024-01-01', null),
    ];
    const collapsed = groupThreads(messages, new Set());
    expect(collapsed.map((row) => [row.message.id, row.thread?.size ?? 1])).toEqual([
      ['1', 2],
      ['2', 1],
      ['4', 1],
    ]);
    const expanded = groupThreads(messages, new Set(['t1']));
    expect(expanded.map((row) => [row.message.id, row.depth])).toEqual([
      ['1', 0],
      ['3', 1],
      ['2', 0],
      ['4', 0],
    ]);
  });
});
