/**
 * Cancel for a long first sync, through the UI against the real service and Dovecot (issue #6): a
 * mailbox of 1,200 messages behind a slow link (a throttling loopback proxy), the sync status shows
 * its progress with a Cancel button, the keyboard presses it, the sync stops between two header
 * batches with a note saying how far it got, the account stays usable, and "Check for new mail"
 * later lists the rest without duplicates.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestUser } from './mailserver/types';
import { createTestUser, putMessages } from './mailserver/test-users';
import { plainTextMessage } from './support/server-mail';
import { accountSection, addAccountThroughSetup, openFolder, SERVER_TIMEOUT_MS, sidebar } from './support/app-page';
import { startThrottledProxy, type ThrottledProxy } from './support/throttled-proxy';
import { screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';
import { startUiSession, type UiSession } from './support/ui-session';

const info = inject('mailServer');
const ACCOUNT = 'Big mailbox';
const COUNT = 1_200;
/** Messages in Archive: a switch to POP3 with "every other server folder" downloads them. */
const ARCHIVED = 200;
/** Slow enough that one window of 250 headers takes seconds; the login and the test still fit. */
const SLOW_BYTES_PER_SECOND = 60 * 1024;

let session: UiSession;
let opened: OpenedPage;
let page: Page;
let user: TestUser;
let proxy: ThrottledProxy;

beforeAll(async () => {
  user = await createTestUser(info);
  await putMessages(
    info,
    user,
    Array.from({ length: COUNT }, (_, index) =>
      plainTextMessage({
        from: 'Newsletter <news@example.org>',
        to: user.email,
        subject: `Issue ${index + 1}`,
        date: 'Tue, 2 Jan 2024 09:00:00 +0000',
        messageId: `issue${index}.${user.username}@example.org`,
        body: `Issue ${index + 1}.`,
      }),
    ),
  );
  await putMessages(
    info,
    user,
    Array.from({ length: ARCHIVED }, (_, index) =>
      plainTextMessage({
        from: 'Ada <ada@example.org>',
        to: user.email,
        subject: `Filed ${index + 1}`,
        date: 'Tue, 2 Jan 2024 09:00:00 +0000',
        messageId: `filed${index}.${user.username}@example.org`,
        body: 'A filed report. '.repeat(300),
      }),
    ),
    'Archive',
  );
  proxy = await startThrottledProxy({ host: info.host, port: info.ports.imaps }, SLOW_BYTES_PER_SECOND);
  session = await startUiSession('ui-cancel-sync');
  opened = await session.open({ width: 1280, height: 800 });
  page = opened.page;
});

/** The list header's count, as shown ("1,200 messages"). */
async function expectMessageCount(page: Page, count: number): Promise<void> {
  await expect
    .poll(() => page.locator('.list-header__count').textContent(), { timeout: SERVER_TIMEOUT_MS })
    .toBe(`${count.toLocaleString('en-US')} messages`);
}

afterAll(async () => {
  await session?.stop();
  await proxy?.close();
});

describe('cancel a long sync', () => {
  it('shows the first sync with a Cancel button; Cancel stops it and says how far it got', async () => {
    await addAccountThroughSetup(page, {
      name: ACCOUNT,
      email: user.email,
      password: user.password,
      mode: 'imap',
      incoming: { host: '127.0.0.1', port: proxy.port },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    const status = sidebar(page).getByRole('status').filter({ hasText: ACCOUNT });
    await status
      .getByText(/Fetching message headers in INBOX · [\d,]+ of 1,200/)
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    const cancel = status.getByRole('button', { name: `Cancel the sync of ${ACCOUNT}` });
    await screenshot(page, 'cancel-sync-running');
    // Keyboard: focus the button and press Enter, as a keyboard user would after tabbing to it.
    await cancel.focus();
    await page.keyboard.press('Enter');

    const note = status.getByText(
      /Sync stopped: [\d,]+ of 1,200 messages listed in INBOX\. The rest will be listed on the next sync\./,
    );
    await note.waitFor({ timeout: SERVER_TIMEOUT_MS });
    await screenshot(page, 'cancel-sync-stopped');
    expect(await cancel.count()).toBe(0);
    const listed = Number(((await note.textContent()) ?? '').match(/stopped: ([\d,]+) of/)?.[1].replace(/,/g, ''));
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(COUNT);

    // The account is fine (no error), and what was listed is there to read.
    const section = accountSection(page, ACCOUNT);
    expect(await section.locator('.connectivity--error').count()).toBe(0);
    await openFolder(page, ACCOUNT, 'Inbox');
    await expectMessageCount(page, listed);
    // The cancelled sync does not start again by itself right away.
    await page.waitForTimeout(1_500);
    await expectMessageCount(page, listed);

    // The note can be dismissed from the keyboard too.
    await status.getByRole('button', { name: `Dismiss the note about ${ACCOUNT}` }).focus();
    await page.keyboard.press('Enter');
    await note.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
  });

  it('"Check for new mail" later lists the rest, without duplicates', async () => {
    proxy.setRate(Infinity);
    await accountSection(page, ACCOUNT)
      .getByRole('button', { name: `Check ${ACCOUNT} for new mail` })
      .click();
    await expectMessageCount(page, COUNT);
    expect(opened.consoleErrors).toEqual([]);
  });

  it('cancels a switch to POP3 while it downloads: the dialog says the account keeps IMAP and what was kept', async () => {
    await accountSection(page, ACCOUNT)
      .getByRole('button', { name: `Settings of ${ACCOUNT}` })
      .click();
    await page.getByRole('button', { name: 'Switch to POP3…' }).click();
    const dialog = page.getByRole('dialog', { name: `Switch “${ACCOUNT}” to POP3` });
    await dialog.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const server = dialog.getByRole('group', { name: 'POP3 server' });
    if ((await server.count()) > 0) await server.getByLabel('Port').fill(String(info.ports.pop3s));
    await dialog.getByLabel(/Also download every other server folder now/).check();
    await dialog.getByRole('button', { name: 'Show what would change' }).click();
    await dialog.getByRole('button', { name: 'Switch to POP3' }).waitFor({ timeout: SERVER_TIMEOUT_MS });

    proxy.setRate(SLOW_BYTES_PER_SECOND);
    await dialog.getByRole('button', { name: 'Switch to POP3' }).click();
    const cancel = dialog.getByRole('button', { name: 'Cancel switch' });
    // Enabled once the first messages are down (the service marks the switch cancellable).
    await dialog.getByText(/Switching… [1-9][\d,]* of /).waitFor({ timeout: SERVER_TIMEOUT_MS });
    await cancel.focus();
    await page.keyboard.press('Enter');

    const outcome = dialog.getByRole('status').filter({ hasText: 'The switch was cancelled.' });
    await outcome.waitFor({ timeout: SERVER_TIMEOUT_MS });
    const text = (await outcome.textContent()) ?? '';
    expect(text).toMatch(
      /the account still uses IMAP\. [\d,]+ of [\d,]+ messages were downloaded and stay on this computer/,
    );
    await screenshot(page, 'cancel-switch-stopped');
    proxy.setRate(Infinity);
    await dialog.getByRole('button', { name: 'Close' }).filter({ hasText: 'Close' }).click();
    await accountSection(page, ACCOUNT).getByText('IMAP', { exact: true }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(opened.consoleErrors).toEqual([]);
  });
});
