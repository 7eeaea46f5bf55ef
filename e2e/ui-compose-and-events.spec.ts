/**
 * Writing and sending (attachments read in the page, the outbox's states), and the app rendering
 * from the service's events: connectivity, long-running progress, new mail, a mode switch with
 * its what-if plan and progress, settings saved, and a failing service call told in words.
 * Scripted service on the real host.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../shared/api';
import { MailError } from '../shared/errors';
import type { WebHost } from '../main/web/web-host';
import { launchChromium } from './support/chromium';
import { createScriptedService, serveScripted, type ScriptedService } from './support/scripted-service';
import { openAppPage, screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';

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

async function openMail(): Promise<OpenedPage> {
  const opened = await openAppPage(browser, host.url, { width: 1440, height: 900 });
  await opened.page.locator('[role="listbox"] [role="option"]').first().waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  return opened;
}

function sidebar(page: Page) {
  return page.getByRole('navigation', { name: 'Accounts and folders' });
}

describe('writing mail', () => {
  it('checks recipients, reads attachments to base64, sends through the outbox and shows its state', async () => {
    const { page, consoleErrors, close } = await openMail();
    await page.keyboard.press('c');
    const composer = page.getByRole('region', { name: 'New message' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await composer.getByRole('button', { name: 'Send' }).click();
    expect(await composer.getByText('Add at least one recipient.').isVisible()).toBe(true);
    await composer.getByLabel('To').fill('Ada <ada@analytical.example>, not-an-address');
    await composer.getByRole('button', { name: 'Send' }).click();
    expect(await composer.getByText('Not an email address: not-an-address').isVisible()).toBe(true);

    await composer.getByLabel('To').fill('Ada Lovelace <ada@analytical.example>, grace@navy.example');
    await composer.getByRole('button', { name: 'Add Cc or Bcc' }).click();
    await composer.getByLabel('Bcc').fill('"Turing, Alan" <alan@bletchley.example>');
    await composer.getByLabel('Subject').fill('Engine notes');
    await composer.getByLabel('Message').fill('The notes are attached.');
    const bytes = Buffer.from('Note G: the Bernoulli numbers.\n', 'utf8');
    await composer
      .locator('input[type="file"]')
      .setInputFiles({ name: 'note-g.txt', mimeType: 'text/plain', buffer: bytes });
    await composer.getByText('note-g.txt').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'composer-new');
    service.calls.length = 0;
    await composer.getByLabel('Message').press('Control+Enter');
    await page.getByText('Message is in the outbox.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await composer.count()).toBe(0);

    const sent = service.calls.find((call) => call.method === 'sendMessage')?.request as OutgoingMessage;
    expect(sent).toMatchObject({
      accountId: 'work',
      to: [
        { name: 'Ada Lovelace', address: 'ada@analytical.example' },
        { name: '', address: 'grace@navy.example' },
      ],
      cc: [],
      bcc: [{ name: 'Turing, Alan', address: 'alan@bletchley.example' }],
      subject: 'Engine notes',
      text: 'The notes are attached.',
      attachments: [{ filename: 'note-g.txt', contentType: 'text/plain', contentBase64: bytes.toString('base64') }],
    });

    await sidebar(page).getByRole('button', { name: 'Outbox' }).click();
    const item = page.getByRole('listitem').filter({ hasText: 'Engine notes' });
    await item.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await item.textContent()).toContain('Queued');
    const queued = service.outbox.find((entry) => entry.subject === 'Engine notes');
    if (queued === undefined) throw new Error('the scripted outbox lost the message');
    queued.state = 'sent';
    service.emit('outboxChanged', { accountId: 'work' });
    await expect.poll(() => item.textContent()).toContain('Sent');
    expect(consoleErrors).toEqual([]);
    await close();
  });
});

describe('rendering from events', () => {
  it('shows connectivity, progress and new mail as the service reports them', async () => {
    const { page, close } = await openMail();
    const work = sidebar(page).getByRole('region', { name: 'Work' });
    service.emit('connectivity', { accountId: 'work', state: 'offline' });
    await work.getByText('Offline').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await work.getByRole('button', { name: /^Inbox/ }).click();
    await page.getByText(/Offline\. What you do now is kept here/).waitFor({ timeout: VISIBLE_TIMEOUT_MS });

    service.emit('syncProgress', {
      accountId: 'work',
      phase: 'headers',
      folder: 'INBOX',
      done: 1_200,
      total: 5_000,
      bytes: 0,
    });
    const status = page.locator('.sync-status');
    await status.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await status.textContent()).toContain('Fetching message headers in INBOX · 1,200 of 5,000');
    expect(await status.getByRole('progressbar').getAttribute('value')).toBe('1200');
    await screenshot(page, 'offline-and-progress');
    service.emit('syncProgress', {
      accountId: 'work',
      phase: 'done',
      folder: null,
      done: 5_000,
      total: 5_000,
      bytes: 0,
    });
    await status.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });

    service.emit('newMail', { accountId: 'home', folderId: 'home-inbox', count: 2, subjects: ['Dinner?', 'Photos'] });
    const toast = page.getByRole('status').filter({ hasText: '2 new messages for Home' });
    await toast.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await toast.textContent()).toContain('Dinner?');
    await toast.getByRole('button', { name: 'Show' }).click();
    await expect
      .poll(() =>
        sidebar(page)
          .getByRole('region', { name: 'Home' })
          .getByRole('button', { name: /^Inbox/ })
          .getAttribute('aria-current'),
      )
      .toBe('page');
    service.emit('connectivity', { accountId: 'work', state: 'online' });
    await close();
  });

  it('says in words why a service call failed', async () => {
    const { page, close } = await openMail();
    const check = sidebar(page).getByRole('button', { name: 'Check Home for new mail' });
    try {
      service.fail(
        'syncAccount',
        new MailError('AUTH_FAILED', 'refused', { serverText: '[AUTH] Authentication failed.' }),
      );
      await check.click();
      const alert = page.locator('.toast--error').filter({ hasText: 'Could not check “Home”.' });
      await alert.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      expect(await alert.textContent()).toContain('The server did not accept the user name or password.');
      await screenshot(page, 'error-toast');

      // An account that worked before and cannot reach its server now is offline: no settings to fix.
      service.fail(
        'syncAccount',
        new MailError('CONNECTION_REFUSED', 'refused', { host: 'pop.home.example', port: 995 }),
      );
      await check.click();
      await page
        .getByRole('status')
        .getByText('“Home” cannot reach its server right now.')
        .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      expect(await page.locator('.toast--error').count()).toBe(1);
    } finally {
      service.fail('syncAccount', null);
    }
    await close();
  });
});

describe('account settings and the mode switch', () => {
  it('previews the switch, runs it with progress, and saves settings', async () => {
    const { page, close } = await openMail();
    await sidebar(page).getByRole('button', { name: 'Settings of Work' }).click();
    await page.getByRole('heading', { name: 'Work', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });

    await page.getByLabel('Check every (minutes)').fill('five');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect(await page.getByText(/Enter minutes from 0/).isVisible()).toBe(true);
    await page.getByLabel('Check every (minutes)').fill('5');
    await page.getByRole('checkbox', { name: /^INBOX/ }).uncheck();
    await page.getByRole('checkbox', { name: /^Archive/ }).check();
    service.calls.length = 0;
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Settings saved.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const update = service.calls.find((call) => call.method === 'updateAccount')?.request as {
      settings: { checkIntervalMinutes: number; offlineFolders: string[] };
      password: string | null;
    };
    expect(update.settings.checkIntervalMinutes).toBe(5);
    expect(update.settings.offlineFolders).toEqual(['Archive']);
    expect(update.password).toBeNull();

    await page.getByRole('button', { name: 'Switch to POP3…' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Switch “Work” to POP3' });
    await dialog.getByLabel('Remove from the server once downloaded').check();
    await dialog.getByRole('button', { name: 'Show what would change' }).click();
    await dialog
      .getByText('Later deleted from the server by your leave-a-copy setting')
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const plan = service.calls.find((call) => call.method === 'planChange')?.request;
    expect(plan).toEqual({
      accountId: 'work',
      change: { kind: 'switch-mode', to: 'pop3', leaveOnServer: { kind: 'off' }, allFolders: false },
    });
    await dialog.getByText('Downloaded to this computer').click();
    expect(await dialog.getByRole('table').first().isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Switch to POP3' }).click();
    await dialog.getByText('“Work” now runs in POP3 mode.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(service.calls.filter((call) => call.method === 'switchMode')).toHaveLength(1);
    await screenshot(page, 'switch-mode-done');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await close();
  });
});

describe('mailto: from the operating system', () => {
  it('composeRequested opens the composer prefilled for the first account', async () => {
    const { page, consoleErrors, close } = await openMail();
    service.emit('composeRequested', {
      to: ['ada@analytical.example'],
      cc: ['grace@navy.example'],
      bcc: ['alan@bletchley.example'],
      subject: 'From a link',
      body: 'Hello from a web page.\nSecond line.',
    });
    const composer = page.getByRole('region', { name: 'New message' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await composer.getByLabel('To').inputValue()).toBe('ada@analytical.example');
    expect(await composer.getByLabel('Cc', { exact: true }).inputValue()).toBe('grace@navy.example');
    expect(await composer.getByLabel('Bcc').inputValue()).toBe('alan@bletchley.example');
    expect(await composer.getByLabel('Subject').inputValue()).toBe('From a link');
    expect(await composer.getByLabel('Message').inputValue()).toBe('Hello from a web page.\nSecond line.');
    // Ctrl+S saves it as a draft; a refused save says why, and the next one goes through.
    service.fail('saveDraft', new MailError('DISK_FULL', 'The disk is full.'));
    await composer.getByLabel('Message').press('Control+s');
    await composer
      .getByRole('status')
      .filter({ hasText: /^Not saved: / })
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    service.fail('saveDraft', null);
    await composer.getByLabel('Message').press('Control+s');
    await composer.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const saved = service.calls.find((call) => call.method === 'saveDraft')?.request as {
      message: OutgoingMessage;
    };
    expect(saved.message).toMatchObject({ accountId: 'work', subject: 'From a link' });
    await composer.getByRole('button', { name: 'Discard' }).click();
    await page.getByRole('dialog', { name: 'Discard this message?' }).getByRole('button', { name: 'Discard' }).click();
    await composer.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
    expect(service.calls.filter((call) => call.method === 'deleteDraft')).toHaveLength(1);
    expect(consoleErrors).toEqual([]);
    await close();
  });
});
