/**
 * The message list with 100,000 messages in one folder (scripted service on the real host): it
 * pages through listMessages as the user scrolls and never asks for everything, keeps the DOM
 * small, jumps to the end at once, sorts and filters on the service's side, and selects with the
 * mouse and the keyboard. Measurements are printed for the report.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListMessagesRequest } from '../shared/api';
import type { WebHost } from '../main/web/web-host';
import { launchChromium } from './support/chromium';
import { createScriptedService, serveScripted, type ScriptedService } from './support/scripted-service';
import { openAppPage, screenshot, VISIBLE_TIMEOUT_MS } from './support/ui';

const FOLDER_SIZE = 100_000;
/** The list may ask for a page or two beyond the screen, never for the folder. */
const MAXIMUM_PAGE = 100;

let browser: Browser;
let service: ScriptedService;
let host: WebHost;

beforeAll(async () => {
  service = createScriptedService({ inboxSize: FOLDER_SIZE });
  [browser, host] = await Promise.all([launchChromium(), serveScripted(service)]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

function listCalls(): ListMessagesRequest[] {
  return service.calls
    .filter((call) => call.method === 'listMessages')
    .map((call) => call.request as ListMessagesRequest);
}

function rows(page: Page) {
  return page.locator('[role="listbox"] [role="option"]');
}

async function openBigInbox(): Promise<{ page: Page; close(): Promise<void>; firstRowsMs: number }> {
  const opened = await openAppPage(browser, host.url, { width: 1280, height: 860 });
  const { page } = opened;
  await page.getByRole('list', { name: 'Work: folders on the server' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  service.calls.length = 0;
  const started = Date.now();
  await page
    .getByRole('list', { name: 'Work: folders on the server' })
    .getByRole('button', { name: /^Inbox/ })
    .click();
  await page.getByText('100,000 messages').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  await rows(page).first().locator('.message-row__from').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  return { page, close: opened.close, firstRowsMs: Date.now() - started };
}

describe('a folder of 100,000 messages', () => {
  it('shows its first rows at once and pages as it scrolls, never loading the folder', async () => {
    const { page, close, firstRowsMs } = await openBigInbox();
    const domRows = await rows(page).count();
    expect(domRows).toBeLessThan(60);
    expect(await page.getByRole('listbox').getAttribute('aria-multiselectable')).toBe('true');
    expect(await rows(page).first().getAttribute('aria-setsize')).toBe(String(FOLDER_SIZE));

    // Scroll through the first few thousand rows the way a wheel does, timing each frame.
    const frames = await page.evaluate(async () => {
      const list = document.querySelector('[role="listbox"]') as HTMLElement;
      const gaps: number[] = [];
      let last = performance.now();
      for (let step = 0; step < 120; step += 1) {
        list.scrollTop += 1_600;
        await new Promise(requestAnimationFrame);
        const now = performance.now();
        gaps.push(now - last);
        last = now;
      }
      gaps.sort((left, right) => left - right);
      return { median: gaps[Math.floor(gaps.length / 2)], p95: gaps[Math.floor(gaps.length * 0.95)] };
    });
    await page.waitForTimeout(300);
    const afterScroll = listCalls();
    expect(afterScroll.every((request) => request.limit <= MAXIMUM_PAGE)).toBe(true);
    // 120 screens scrolled: far fewer pages than rows, and nothing like the whole folder.
    const rowsFetched = afterScroll.reduce((sum, request) => sum + request.limit, 0);
    expect(rowsFetched).toBeLessThan(FOLDER_SIZE / 10);

    // The end, in one keystroke: only the last pages are asked for.
    await rows(page).first().click();
    service.calls.length = 0;
    const endStarted = Date.now();
    await page.getByRole('listbox').press('End');
    const last = page.locator(`[role="option"][aria-posinset="${FOLDER_SIZE}"]`);
    await last.locator('.message-row__from').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const endMs = Date.now() - endStarted;
    expect(await last.getAttribute('aria-selected')).toBe('true');
    expect(listCalls().length).toBeLessThanOrEqual(4);
    expect(listCalls().every((request) => request.offset >= FOLDER_SIZE - 2 * MAXIMUM_PAGE)).toBe(true);
    await screenshot(page, 'message-list-100k-end');
    process.stdout.write(
      `100k list: first rows ${firstRowsMs} ms, ${domRows} rows in the DOM, scroll frames median ${frames.median.toFixed(1)} ms / p95 ${frames.p95.toFixed(1)} ms, ${afterScroll.length} pages for 120 screens, End in ${endMs} ms\n`,
    );
    await close();
  });

  it('sorts and filters through the service, and groups even this folder into conversations', async () => {
    const { page, close } = await openBigInbox();
    await page.getByLabel('Sort by').selectOption('from');
    await expect
      .poll(() => listCalls().some((request) => request.sort === 'from' && request.direction === 'asc'))
      .toBe(true);
    await expect.poll(() => rows(page).first().locator('.message-row__from').textContent()).toBe('Ada Lovelace');
    expect(await page.getByRole('button', { name: /Order: A to Z/ }).isVisible()).toBe(true);

    await page.getByLabel('Show messages stored').selectOption('server');
    await expect.poll(() => listCalls().some((request) => request.residency === 'server')).toBe(true);
    await page.getByText('33,334 messages').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const badges = await rows(page).locator('.residency').allTextContents();
    expect(badges.length).toBeGreaterThan(3);
    expect(badges.every((text) => text.startsWith('Server'))).toBe(true);

    // The service groups conversations, page by page: no size limit, never the whole folder.
    const conversations = page.getByRole('button', { name: /Conversations/ });
    expect(await conversations.isDisabled()).toBe(false);
    await conversations.click();
    await page.getByText('33,334 messages in 33,334 conversations').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const grouped = listCalls().filter((request) => request.threads === true);
    expect(grouped.length).toBeGreaterThan(0);
    expect(grouped.every((request) => request.residency === 'server' && request.limit <= 100)).toBe(true);
    await close();
  });

  it('selects with shift, ctrl and the keyboard, moves with j/k, and deletes with #', async () => {
    const { page, close } = await openBigInbox();
    await rows(page).nth(0).click();
    await page.getByRole('listbox').press('Shift+ArrowDown');
    await page.getByRole('listbox').press('Shift+ArrowDown');
    await page.getByText('3 messages selected').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await rows(page)
      .nth(5)
      .click({ modifiers: ['Control'] });
    await page.getByText('4 messages selected').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await rows(page)
      .nth(8)
      .click({ modifiers: ['Shift'] });
    await page.getByText('4 messages selected').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await page.locator('[role="listbox"] [role="option"][aria-selected="true"]').count()).toBe(4);

    await rows(page).nth(2).click();
    await page.keyboard.press('j');
    await expect
      .poll(() => page.locator('[role="option"][aria-posinset="4"]').getAttribute('aria-selected'))
      .toBe('true');
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    await expect
      .poll(() => page.locator('[role="option"][aria-posinset="2"]').getAttribute('aria-selected'))
      .toBe('true');
    const selectedSubject = await page
      .locator('[role="option"][aria-posinset="2"] .message-row__subject')
      .textContent();

    service.calls.length = 0;
    await page.keyboard.press('#');
    await page.getByText('99,999 messages').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const deletion = service.calls.find((call) => call.method === 'deleteMessages');
    expect(deletion?.request).toEqual({ messageIds: ['work-inbox:1'] });
    // The next message takes its place and is selected.
    await expect
      .poll(() => page.locator('[role="option"][aria-posinset="2"]').getAttribute('aria-selected'))
      .toBe('true');
    expect(await page.locator('[role="option"][aria-posinset="2"] .message-row__subject').textContent()).not.toBe(
      selectedSubject,
    );

    // Archive (e) moves to the account's archive folder.
    service.calls.length = 0;
    await page.keyboard.press('e');
    await page.getByText('1 message moved to Archive.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(service.calls.find((call) => call.method === 'moveMessages')?.request).toEqual({
      messageIds: ['work-inbox:2'],
      folderId: 'work-archive',
    });
    await close();
  });

  it('groups a smaller folder into conversations that expand', async () => {
    const opened = await openAppPage(browser, host.url, { width: 1280, height: 860 });
    const { page } = opened;
    await page.getByRole('button', { name: /^Archive/ }).click();
    await page.getByText('1,200 messages').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByRole('button', { name: /Conversations/ }).click();
    await page.getByText('1,200 messages in 400 conversations').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const toggle = rows(page)
      .first()
      .getByRole('button', { name: /3 messages in this conversation; expand/ });
    await toggle.click();
    await expect.poll(() => rows(page).first().getAttribute('aria-expanded')).toBe('true');
    expect(await rows(page).nth(1).getAttribute('class')).toContain('message-row--nested');
    expect(await rows(page).nth(2).getAttribute('class')).toContain('message-row--nested');
    expect(await rows(page).nth(3).getAttribute('class')).not.toContain('message-row--nested');
    await screenshot(page, 'message-list-conversations');
    await opened.close();
  });
});
