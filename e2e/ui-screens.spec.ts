/**
 * Every main screen, in a known state (the scripted service on the real host), in light and dark:
 * each is checked for what it must say and saved to test-results/screenshots/ for a person to look
 * at. No console errors, and no request beyond the loopback host, on any of them.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../main/web/web-host';
import { launchChromium } from './support/chromium';
import { createScriptedService, serveScripted, type ScriptedService } from './support/scripted-service';
import { foreignRequests, openAppPage, screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';

let browser: Browser;
let service: ScriptedService;
let host: WebHost;

beforeAll(async () => {
  service = createScriptedService();
  [browser, host] = await Promise.all([launchChromium(), serveScripted(service)]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

async function openMail(colorScheme: 'light' | 'dark' = 'light'): Promise<OpenedPage> {
  const opened = await openAppPage(browser, host.url, { colorScheme, width: 1440, height: 900 });
  await opened.page.getByRole('listbox', { name: /Messages in/ }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  await rows(opened.page).first().waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  return opened;
}

/** The message rows (not the <option>s of the toolbar's selects). */
function rows(page: Page) {
  return page.locator('[role="listbox"] [role="option"]');
}

function assertClean(opened: OpenedPage): void {
  expect(opened.consoleErrors).toEqual([]);
  expect(foreignRequests(opened.requests, `127.0.0.1:${host.port}`)).toEqual([]);
}

async function openFirstMessage(page: Page): Promise<void> {
  await rows(page).first().click();
  await page.getByRole('toolbar', { name: 'Message actions' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
}

describe('the main screens', () => {
  it('unified inbox with a message open: sidebar with modes, connectivity and counts, residency per row', async () => {
    const opened = await openMail();
    const { page } = opened;
    const sidebar = page.getByRole('navigation', { name: 'Accounts and folders' });
    expect(await sidebar.getByRole('heading', { name: 'Work' }).isVisible()).toBe(true);
    expect(await sidebar.getByText('POP3', { exact: true }).isVisible()).toBe(true);
    expect(await sidebar.getByText('Online').first().isVisible()).toBe(true);
    expect(await sidebar.getByRole('button', { name: /^All inboxes/ }).getAttribute('aria-current')).toBe('page');
    expect(await sidebar.getByText('On this computer').first().isVisible()).toBe(true);
    // Residency in icon + word on each row.
    const firstRow = rows(page).first();
    expect(await firstRow.textContent()).toMatch(/Server|Here|Both/);
    await openFirstMessage(page);
    await page.getByRole('region', { name: 'Remote content' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await page.locator('iframe.mail-frame').getAttribute('sandbox')).toBe('');
    await screenshot(page, 'mail-unified-inbox');
    assertClean(opened);
    await opened.close();
  });

  it('the same in the dark theme', async () => {
    const opened = await openMail('dark');
    await openFirstMessage(opened.page);
    expect(await opened.page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(18, 22, 29)');
    await screenshot(opened.page, 'mail-unified-inbox-dark');
    assertClean(opened);
    await opened.close();
  });

  it('a folder with a plain-text message, and several messages selected', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.getByRole('button', { name: /^Archive/ }).click();
    await page.getByRole('heading', { name: 'Archive', level: 2 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await rows(page).nth(1).click();
    await page.getByRole('article').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByText('The full notes are at').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'mail-folder-plain-text');
    await rows(page)
      .nth(4)
      .click({ modifiers: ['Shift'] });
    expect(await page.getByText('4 messages selected').isVisible()).toBe(true);
    await screenshot(page, 'mail-multiple-selected');
    assertClean(opened);
    await opened.close();
  });

  it('search results as you type', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.keyboard.press('/');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label')))
      .toBe('Search mail');
    await page.keyboard.type('invoice');
    await page.getByRole('listbox', { name: 'Search results for “invoice”' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByText(/\d+ results?/).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(service.calls.some((call) => call.method === 'search')).toBe(true);
    await screenshot(page, 'mail-search');
    assertClean(opened);
    await opened.close();
  });

  it('composer: a reply with the quote', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.getByRole('button', { name: /^Archive/ }).click();
    await rows(page).nth(1).click();
    await page.getByText('The full notes are at').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    const composer = page.getByRole('region', { name: 'Reply' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await composer.getByLabel('Subject').inputValue()).toMatch(/^Re: /);
    expect(await composer.getByLabel('Message').inputValue()).toContain('> Could you send the notes');
    await screenshot(page, 'composer-reply');
    assertClean(opened);
    await opened.close();
  });

  it('outbox with every delivery state in words', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.getByRole('button', { name: 'Outbox' }).click();
    await page.getByRole('heading', { name: 'Outbox', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByText('Delivery unknown').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await page.getByText('Queued').isVisible()).toBe(true);
    await screenshot(page, 'outbox');
    assertClean(opened);
    await opened.close();
  });

  it('"Where is my mail?": both sides, by folder, quota warning, and the switch dialog with its plan', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.getByRole('button', { name: 'Where is my mail?' }).click();
    await page.getByRole('heading', { name: 'Where is my mail?', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByText('The server mailbox is almost full').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await page.getByRole('meter', { name: /Server storage used: 90 percent/ }).count()).toBe(1);
    await screenshot(page, 'where-is-my-mail');

    await page.getByRole('button', { name: 'Switch to POP3…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Switch “Work” to POP3' });
    await dialog.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await dialog.getByRole('button', { name: 'Show what would change' }).click();
    await dialog.getByText('Downloaded to this computer').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await dialog.getByText('Not reachable in the new mode').isVisible()).toBe(true);
    await screenshot(page, 'switch-mode-plan');
    expect(service.calls.filter((call) => call.method === 'switchMode')).toEqual([]);
    assertClean(opened);
    await opened.close();
  });

  it('account settings', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.getByRole('button', { name: 'Settings of Home' }).click();
    await page.getByRole('heading', { name: 'Home', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await page.getByLabel('Leave a copy for a number of days').isChecked()).toBe(true);
    await screenshot(page, 'account-settings');
    assertClean(opened);
    await opened.close();
  });

  it('"Where is my mail?" and account setup in the dark theme', async () => {
    const opened = await openMail('dark');
    const { page } = opened;
    await page.getByRole('button', { name: 'Where is my mail?' }).click();
    await page.getByText('The server mailbox is almost full').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'where-is-my-mail-dark');
    await page.getByRole('button', { name: 'Add an account' }).click();
    await page.getByLabel('Email address').fill('ada@example.org');
    await page.getByLabel('Password').fill('secret');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Download mail to this computer (POP3)').click();
    await screenshot(page, 'account-setup-dark');
    assertClean(opened);
    await opened.close();
  });

  it('the composer, the switch preview and account settings in the dark theme', async () => {
    const opened = await openMail('dark');
    const { page } = opened;
    await openFirstMessage(page);
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByRole('region', { name: 'Reply' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'composer-reply-dark');
    await page.getByRole('button', { name: 'Discard' }).click();

    await page.getByRole('button', { name: 'Settings of Work' }).click();
    await page.getByRole('heading', { name: 'Work', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'account-settings-dark');
    await page.getByRole('button', { name: 'Switch to POP3…' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Switch “Work” to POP3' });
    await dialog.getByRole('button', { name: 'Show what would change' }).click();
    await dialog.getByText('Downloaded to this computer').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'switch-mode-plan-dark');
    assertClean(opened);
    await opened.close();
  });

  it('a folder’s menu, and a new folder on the server', async () => {
    const opened = await openMail();
    const { page } = opened;
    const work = page.getByRole('navigation', { name: 'Accounts and folders' }).getByRole('region', { name: 'Work' });
    await work.getByRole('button', { name: 'Actions for folder Projects' }).click();
    const menu = page.getByRole('menu', { name: 'Folder Projects' });
    expect((await menu.getByRole('menuitem').allTextContents()).map((text) => text.trim())).toEqual([
      'New folder inside…',
      'Rename…',
      'Export…',
      'Delete…',
    ]);
    await screenshot(page, 'folder-menu');
    await menu.getByRole('menuitem', { name: 'New folder inside…' }).click();
    const dialog = page.getByRole('dialog', { name: 'New folder inside “Projects”' });
    await dialog.getByLabel('Folder name').fill('Beta');
    service.calls.length = 0;
    await dialog.getByRole('button', { name: 'Create folder' }).click();
    await work.getByRole('button', { name: /^Beta/ }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(service.calls.find((call) => call.method === 'createFolder')?.request).toEqual({
      accountId: 'work',
      name: 'Beta',
      parentId: 'work-projects',
      kind: 'server',
    });
    // The inbox can be neither renamed nor deleted.
    await work.getByRole('button', { name: 'Actions for folder Inbox' }).click();
    expect(await page.getByRole('menuitem', { name: 'Rename…' }).isDisabled()).toBe(true);
    expect(await page.getByRole('menuitem', { name: 'Delete…' }).isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
    assertClean(opened);
    await opened.close();
  });

  it('the keyboard help overlay opens with "?"', async () => {
    const opened = await openMail();
    const { page } = opened;
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    for (const description of ['Next message', 'Reply to all', 'Archive the selected messages', 'Search']) {
      expect(await dialog.getByText(description, { exact: true }).isVisible()).toBe(true);
    }
    await screenshot(page, 'keyboard-help');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: VISIBLE_TIMEOUT_MS });
    assertClean(opened);
    await opened.close();
  });
});
