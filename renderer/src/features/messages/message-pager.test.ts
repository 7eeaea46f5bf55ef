/**
 * Scrolling a long folder: the next page in the direction of the scroll is asked for a little
 * before its rows come on screen, so they are there when they scroll in; a page on screen is never
 * asked for twice, and nothing beyond the folder's end is asked for.
 */
import { describe, expect, it } from 'vitest';
import type { MessagePage } from '../../../../shared/api';
import type { MessageSummary } from '../../../../shared/model';
import { MessagePager, PAGE_SIZE } from './message-pager';

function folder(total: number) {
  const asked: number[] = [];
  const fetch = async (offset: number, limit: number): Promise<MessagePage> => {
    asked.push(offset);
    const items = Array.from(
      { length: Math.max(0, Math.min(limit, total - offset)) },
      (_, index) => ({ id: `m${offset + index}` }) as MessageSummary,
    );
    return { total, offset, items };
  };
  return { asked, fetch };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the paged source while scrolling', () => {
  it('asks for the next page before its rows are on screen, scrolling down and up', async () => {
    const { asked, fetch } = folder(1_000);
    const pager = new MessagePager(fetch);
    await settle();
    // Rows 0–29 on screen, then a few rows further each step, as a mouse wheel scrolls.
    for (let first = 0; first <= 60; first += 2) {
      pager.want(first, first + 29);
      await settle();
    }
    // Page 1 (rows 100–199) was asked for while row 89 was the last on screen.
    expect(asked).toEqual([0, PAGE_SIZE]);
    expect(pager.row(PAGE_SIZE + 5)?.message.id).toBe(`m${PAGE_SIZE + 5}`);
    expect(pager.row(2 * PAGE_SIZE)).toBeUndefined();

    // Jump to the middle (End, a drag of the scroll bar): only what is on screen.
    pager.want(540, 569);
    await settle();
    expect(asked).toEqual([0, PAGE_SIZE, 500]);
    // Scrolling up from there: the page before comes within a quarter page.
    for (let first = 540; first >= 500; first -= 5) {
      pager.want(first, first + 29);
      await settle();
    }
    expect(asked).toEqual([0, PAGE_SIZE, 500, 400]);
    expect(pager.row(450)?.message.id).toBe('m450');
  });

  it('asks for nothing past the end of the folder', async () => {
    const { asked, fetch } = folder(150);
    const pager = new MessagePager(fetch);
    await settle();
    for (let first = 0; first <= 120; first += 10) {
      pager.want(first, Math.min(149, first + 29));
      await settle();
    }
    expect(asked).toEqual([0, PAGE_SIZE]);
  });
});
