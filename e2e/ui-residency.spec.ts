/**
 * "Where is my mail?" against the real service and Dovecot, through the UI only (SEMANTICS S13,
 * S14): download a POP3 mailbox with leave-a-copy, delete one message here, open the view and see
 * the numbers change; preview a switch to IMAP, confirm it, and see the result match the preview.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestUser } from './mailserver/types';
import { createTestUser, putMessages, readServerMessages } from './mailserver/test-users';
import {
  accountSection,
  addAccountThroughSetup,
  expectMessageCount,
  folderButton,
  openFolder,
  openMessage,
  SERVER_TIMEOUT_MS,
  sidebar,
} from './support/app-page';
import { screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';
import { startUiSession, type UiSession } from './support/ui-session';
import { plainTextMessage } from './support/server-mail';

const info = inject('mailServer');
const ACCOUNT = 'Home';
const SUBJECTS = ['Tax return 2023', 'School trip', 'Garden plans'];

let session: UiSession;
let opened: OpenedPage;
let page: Page;
let user: TestUser;

interface Figures {
  server: string;
  both: string;
  local: string;
}

/** The three figures of a residency summary, as shown: "count · bytes" for each side. */
async function figures(summary: Locator): Promise<Figures> {
  const read = async (term: string) =>
    ((await summary.locator('dt', { hasText: term }).locator('xpath=following-sibling::dd').textContent()) ?? '')
      .replace(/\s+/g, ' ')
      .trim();
  return {
    server: await read('Only on the server'),
    both: await read('In both places'),
    local: await read('Only on this computer'),
  };
}

function counts(shown: Figures): { server: number; both: number; local: number } {
  const count = (text: string) => Number(text.split('·')[0].replace(/\D/g, ''));
  return { server: count(shown.server), both: count(shown.both), local: count(shown.local) };
}

async function openWhereIsMyMail(): Promise<Locator> {
  await sidebar(page).getByRole('button', { name: 'Where is my mail?' }).click();
  await page.getByRole('heading', { name: 'Where is my mail?', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  const summary = page.getByRole('region', { name: 'All accounts' });
  await summary.waitFor({ timeout: SERVER_TIMEOUT_MS });
  return summary;
}

beforeAll(async () => {
  user = await createTestUser(info);
  await putMessages(
    info,
    user,
    SUBJECTS.map((subject, index) =>
      plainTextMessage({
        from: 'Family <family@example.org>',
        to: user.email,
        subject,
        date: `Tue, 2 Jan 2024 0${index}:00:00 +0000`,
        messageId: `r${index}.${user.username}@example.org`,
        body: `${subject}: ${'details '.repeat(40 * (index + 1))}`,
      }),
    ),
  );
  session = await startUiSession('ui-residency');
  opened = await session.open({ width: 1440, height: 900 });
  page = opened.page;
});

afterAll(async () => {
  await session?.stop();
});

describe('where is my mail, as it changes', () => {
  it('downloads a POP3 mailbox with leave-a-copy: all three messages are in both places', async () => {
    await addAccountThroughSetup(page, {
      name: ACCOUNT,
      email: user.email,
      password: user.password,
      mode: 'pop3',
      leaveOnServer: 'Leave a copy on the server forever',
      incoming: { host: info.host, port: info.ports.pop3s },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    await expect
      .poll(() => folderButton(page, ACCOUNT, 'Inbox').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe('Inbox3 unread');
    const summary = await openWhereIsMyMail();
    await expect
      .poll(async () => counts(await figures(summary)), { timeout: SERVER_TIMEOUT_MS })
      .toEqual({ server: 0, both: 3, local: 0 });
    expect((await readServerMessages(info, user)).length).toBe(3);
  });

  it('deletes one here: the view shows one only on the server and two in both places', async () => {
    await openFolder(page, ACCOUNT, 'Inbox');
    await openMessage(page, 'School trip');
    await page
      .getByRole('toolbar', { name: 'Message actions' })
      .getByRole('button', { name: 'Delete', exact: true })
      .click();
    await expectMessageCount(page, 2);
    const summary = await openWhereIsMyMail();
    await expect
      .poll(async () => counts(await figures(summary)), { timeout: SERVER_TIMEOUT_MS })
      .toEqual({ server: 1, both: 2, local: 0 });
    const table = page.getByRole('table', { name: 'Messages by folder and where they are' });
    expect(await table.getByRole('row', { name: /INBOX/ }).textContent()).toMatch(/^.*INBOX.*1 ·.*2 ·.*0 ·/);
    await screenshot(page, 'where-is-my-mail-real');
    // Deleting here never touched the server's copy.
    expect((await readServerMessages(info, user)).length).toBe(3);
    expect(opened.consoleErrors).toEqual([]);
  });

  it('previews a switch to IMAP, confirms it, and the view afterwards matches the preview', async () => {
    await accountSection(page, ACCOUNT)
      .getByRole('button', { name: `Settings of ${ACCOUNT}` })
      .click();
    await page.getByRole('button', { name: 'Switch to IMAP…' }).click();
    const dialog = page.getByRole('dialog', { name: `Switch “${ACCOUNT}” to IMAP` });
    await dialog.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    // No IMAP server saved: the POP3 host is suggested, on the IMAP port the test server uses.
    const server = dialog.getByRole('group', { name: 'IMAP server' });
    expect(await server.getByLabel('Server name').inputValue()).toBe(info.host);
    await server.getByLabel('Port').fill(String(info.ports.imaps));
    await dialog.getByRole('button', { name: 'Show what would change' }).click();
    const promised = dialog.getByRole('region', { name: 'Where your mail will be afterwards' });
    await promised.waitFor({ timeout: SERVER_TIMEOUT_MS });
    const preview = await figures(promised);
    // The message deleted here is still in the server's INBOX; IMAP keeps INBOX for offline
    // reading, so the switch brings it back down: all three in both places afterwards.
    expect(counts(preview)).toEqual({ server: 0, both: 3, local: 0 });
    await dialog.getByText('Downloaded to this computer').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await screenshot(page, 'switch-preview-real');

    await dialog.getByRole('button', { name: 'Switch to IMAP' }).click();
    await dialog.getByText(`“${ACCOUNT}” now runs in IMAP mode.`).waitFor({ timeout: SERVER_TIMEOUT_MS });
    await dialog.getByRole('button', { name: 'Done' }).click();
    await accountSection(page, ACCOUNT).getByText('IMAP', { exact: true }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });

    const summary = await openWhereIsMyMail();
    await expect.poll(() => figures(summary), { timeout: SERVER_TIMEOUT_MS }).toEqual(preview);
    // Nothing was deleted anywhere by the switch.
    expect((await readServerMessages(info, user)).length).toBe(3);
    await screenshot(page, 'where-is-my-mail-after-switch');
  });
});
