/**
 * The journeys of a person's first day, through the UI only, against the real service and the
 * real Dovecot and Postfix, once in each shell: browser mode (the BUILT host in Debian's Chromium)
 * and Electron (the BUILT app, where its binary is installed; reported skipped, with the reason,
 * where it is not). Each shell has its own test users, profile and proxy, so the runs share
 * nothing. Add an IMAP and a POP3 account on the setup screen; read (remote images through main,
 * an attachment saved), reply and send (the recipient receives it, the IMAP Sent folder has it);
 * make, move into, rename and delete folders (the server reflects each change in IMAP mode; POP3
 * says why it has no server folders); and work offline and come back (the network is a loopback
 * proxy, between the service and the servers in both shells, that the test switches off and on):
 * cached mail still opens, a flag change and a move are kept, and after reconnecting the server
 * has them.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestUser } from './mailserver/types';
import { createTestUser, putMessages, readServerMessages } from './mailserver/test-users';
import {
  accountSection,
  addAccountThroughSetup,
  expectMessageCount,
  folderButton,
  messageRow,
  openFolder,
  openMessage,
  SERVER_TIMEOUT_MS,
  sidebar,
} from './support/app-page';
import { plainTextMessage, serverFolders, serverMessages, serverSubjects } from './support/server-mail';
import { startSwitchableProxy, type SwitchableProxy } from './support/switchable-proxy';
import { shellSkipReason, SHELLS, startShellSession, type Shell, type ShellSession } from './support/shell-session';
import { VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';

const info = inject('mailServer');
const OFFICE = 'Office';
const HOME = 'Home';

function message(from: TestUser, to: TestUser, subject: string, body: string, minute: number): Buffer {
  return plainTextMessage({
    from: `Friend <${from.email}>`,
    to: to.email,
    subject,
    date: `Mon, 1 Jan 2024 10:${String(minute).padStart(2, '0')}:00 +0000`,
    messageId: `${subject.replace(/\W+/g, '-')}.${to.username}@example.org`,
    body,
  });
}

/** Bytes no text decoding would keep intact: every byte value once. */
const ATTACHMENT = Buffer.from(Array.from({ length: 256 }, (_, index) => index));

/** An HTML message with a remote image (on this computer: main refuses it) and a binary attachment. */
function minutesWithAttachment(from: TestUser, to: TestUser): Buffer {
  const boundary = 'journey-boundary';
  return Buffer.from(
    [
      `From: Friend <${from.email}>`,
      `To: ${to.email}`,
      'Subject: Minutes and figures',
      'Date: Mon, 1 Jan 2024 09:00:00 +0000',
      `Message-ID: <minutes.${to.username}@example.org>`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>The minutes are below.</p><p><img src="http://127.0.0.1:9/chart.png" alt="Chart"></p>',
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="figures.bin"',
      'Content-Disposition: attachment; filename="figures.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      ATTACHMENT.toString('base64'),
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

/** Registers the whole first day for one shell, with its own users, profile, proxy and window. */
function firstDay(shell: Shell): void {
  let session: ShellSession;
  let proxy: SwitchableProxy;
  let opened: OpenedPage;
  let page: Page;
  let office: TestUser;
  let home: TestUser;
  let friend: TestUser;

  beforeAll(async () => {
    [office, home, friend] = await Promise.all([createTestUser(info), createTestUser(info), createTestUser(info)]);
    await putMessages(info, office, [
      message(friend, office, 'Plans for Tuesday', 'Shall we meet on Tuesday at ten?', 1),
      message(friend, office, 'Budget draft', 'The draft budget is attached in spirit.', 2),
      message(friend, office, 'Old newsletter', 'Nothing to see here.', 3),
      message(friend, office, 'Conference badge', 'Your badge is ready for pick-up.', 4),
      minutesWithAttachment(friend, office),
    ]);
    await putMessages(info, home, [
      message(friend, home, 'Welcome home', 'The keys are under the mat.', 5),
      message(friend, home, 'Holiday photos', 'Forty photos of the beach.', 6),
    ]);
    // The IMAP account reaches Dovecot through a proxy this file can switch off: its "network".
    proxy = await startSwitchableProxy({ host: info.host, port: info.ports.imaps });
    session = await startShellSession(shell, 'ui-journeys', { width: 1440, height: 900 });
    opened = session.opened;
    page = opened.page;
  });

  afterAll(async () => {
    await session?.stop();
    await proxy?.close();
  });

  it('adds an IMAP account and a POP3 account on the setup screen', async () => {
    await addAccountThroughSetup(page, {
      name: OFFICE,
      email: office.email,
      password: office.password,
      mode: 'imap',
      incoming: { host: '127.0.0.1', port: proxy.port },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    await addAccountThroughSetup(page, {
      name: HOME,
      email: home.email,
      password: home.password,
      mode: 'pop3',
      leaveOnServer: 'Leave a copy on the server forever',
      incoming: { host: info.host, port: info.ports.pop3s },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    await expect
      .poll(() => folderButton(page, OFFICE, 'Inbox').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe('Inbox5 unread');
    await expect
      .poll(() => folderButton(page, HOME, 'Inbox').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe('Inbox2 unread');
    expect(await accountSection(page, OFFICE).getByText('IMAP', { exact: true }).isVisible()).toBe(true);
    expect(await accountSection(page, HOME).getByText('POP3', { exact: true }).isVisible()).toBe(true);
    // POP3 downloaded the messages whole, and left a copy on the server as asked.
    expect((await readServerMessages(info, home)).length).toBe(2);
  });

  it('reads a message, replies, and the recipient receives the reply; the server’s Sent folder has it', async () => {
    await openFolder(page, OFFICE, 'Inbox');
    await openMessage(page, 'Plans for Tuesday');
    await page
      .getByRole('article')
      .getByText('Shall we meet on Tuesday at ten?')
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    const composer = page.getByRole('region', { name: 'Reply' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await composer.getByLabel('To').inputValue()).toBe(`Friend <${friend.email}>`);
    const message = composer.getByLabel('Message');
    await message.fill(`Tuesday at ten works for me.\n\n${await message.inputValue()}`);
    await session.screenshot('journey-reply');
    await composer.getByRole('button', { name: 'Send' }).click();
    await page
      .getByText(/Message sent\.|Message is in the outbox\./)
      .first()
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });

    await expect
      .poll(
        async () =>
          (await readServerMessages(info, friend))
            .map((raw) => raw.toString('utf8'))
            .find((text) => text.includes('Subject: Re: Plans for Tuesday')) ?? '',
        { timeout: SERVER_TIMEOUT_MS },
      )
      .toContain('Tuesday at ten works for me.');
    await expect
      .poll(() => serverSubjects(info, office, 'Sent'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual(['Re: Plans for Tuesday']);
    // The Sent folder names who each message went to, not the user themself.
    await openFolder(page, OFFICE, 'Sent');
    await expect
      .poll(() => messageRow(page, 'Re: Plans for Tuesday').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toContain('To: Friend');
    await openFolder(page, OFFICE, 'Inbox');
  });

  it('asks main for remote images and says why one was refused; Save… downloads the attachment byte for byte', async () => {
    await openMessage(page, 'Minutes and figures');
    const frame = page.frameLocator('iframe.mail-frame');
    await frame.getByText('The minutes are below.').waitFor({ timeout: SERVER_TIMEOUT_MS });
    const bar = page.getByRole('region', { name: 'Remote content' });
    expect(await bar.textContent()).toContain('1 remote image was blocked');
    await bar.getByRole('button', { name: 'Load remote content' }).click();
    // Main refuses an address on this computer; the renderer itself never asked for it.
    const failed = page.locator('details.remote-note--failed');
    await failed.waitFor({ timeout: SERVER_TIMEOUT_MS });
    await failed.locator('summary').click();
    expect(await failed.textContent()).toContain(
      'http://127.0.0.1:9/chart.png: the address is on this computer or the local network',
    );
    expect(opened.requests.filter((url) => url.includes('chart.png'))).toEqual([]);

    // Browser mode: the page's download; Electron: saved where main's will-download puts it (no dialog).
    const saved = await session.saveDownload(() => page.getByRole('button', { name: 'Save figures.bin' }).click());
    expect(saved.filename).toBe('figures.bin');
    expect(saved.bytes).toEqual(ATTACHMENT);
  });

  it('makes a server folder, drags a message into it, deletes another, renames the folder: the server follows', async () => {
    await accountSection(page, OFFICE)
      .getByRole('button', { name: `New folder in ${OFFICE}` })
      .click();
    const create = page.getByRole('dialog', { name: `New folder in “${OFFICE}”` });
    await create.getByLabel('Folder name').fill('Projects');
    expect(await create.getByLabel(/On the server/).isChecked()).toBe(true);
    await create.getByRole('button', { name: 'Create folder' }).click();
    await folderButton(page, OFFICE, 'Projects').waitFor({ timeout: SERVER_TIMEOUT_MS });
    await expect.poll(() => serverFolders(info, office), { timeout: SERVER_TIMEOUT_MS }).toContain('Projects');

    // Drag and drop a row onto the folder in the sidebar.
    await openFolder(page, OFFICE, 'Inbox');
    await messageRow(page, 'Budget draft').dragTo(folderButton(page, OFFICE, 'Projects'));
    await page.getByText('1 message moved to Projects.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await expect
      .poll(() => serverSubjects(info, office, 'Projects'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual(['Budget draft']);

    // A copy: the message stays in the inbox and appears in the folder too.
    await openMessage(page, 'Minutes and figures');
    await page
      .getByRole('toolbar', { name: 'Message actions' })
      .getByLabel('Copy to folder')
      .selectOption({ label: 'Projects' });
    await page.getByText('1 message copied to Projects.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await expect
      .poll(() => serverSubjects(info, office, 'Projects'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual(['Budget draft', 'Minutes and figures']);

    await openMessage(page, 'Old newsletter');
    await page
      .getByRole('toolbar', { name: 'Message actions' })
      .getByRole('button', { name: 'Delete', exact: true })
      .click();
    await expectMessageCount(page, 3);
    await expect
      .poll(() => serverSubjects(info, office, 'INBOX'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual(['Conference badge', 'Minutes and figures', 'Plans for Tuesday']);
    // Deleted in IMAP mode means moved to the server's Trash, for every device (S6).
    await expect
      .poll(() => serverSubjects(info, office, 'Trash'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual(['Old newsletter']);

    await accountSection(page, OFFICE).getByRole('button', { name: 'Actions for folder Projects' }).click();
    await page.getByRole('menuitem', { name: 'Rename…' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename “Projects”' });
    await rename.getByLabel('Folder name').fill('Projects 2024');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await folderButton(page, OFFICE, 'Projects 2024').waitFor({ timeout: SERVER_TIMEOUT_MS });
    await expect
      .poll(async () => (await serverFolders(info, office)).filter((name) => name.startsWith('Projects')), {
        timeout: SERVER_TIMEOUT_MS,
      })
      .toEqual(['Projects 2024']);
    expect(await serverSubjects(info, office, 'Projects 2024')).toEqual(['Budget draft', 'Minutes and figures']);
  });

  it('in POP3 mode says why there are no server folders, and keeps folders and moves on this computer', async () => {
    await accountSection(page, HOME)
      .getByRole('button', { name: `New folder in ${HOME}` })
      .click();
    const create = page.getByRole('dialog', { name: `New folder in “${HOME}”` });
    expect(await create.getByLabel(/On this computer/).isChecked()).toBe(true);
    await create.getByLabel('Folder name').fill('Kept');
    await create.getByLabel(/On the server/).check();
    await create.getByRole('button', { name: 'Create folder' }).click();
    const refusal = create.getByRole('alert');
    await refusal.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await refusal.textContent()).toMatch(/POP3/);
    await session.screenshot('journey-pop3-server-folder-refused');

    await create.getByLabel(/On this computer/).check();
    await create.getByRole('button', { name: 'Create folder' }).click();
    const local = sidebar(page).getByRole('list', { name: `${HOME}: folders on this computer` });
    await local.getByRole('button', { name: /^Kept/ }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });

    await openFolder(page, HOME, 'Inbox');
    await openMessage(page, 'Holiday photos');
    await page
      .getByRole('toolbar', { name: 'Message actions' })
      .getByLabel('Move to folder')
      .selectOption({ label: 'Kept (this computer)' });
    await page.getByText('1 message moved to Kept.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await openFolder(page, HOME, 'Kept');
    await expectMessageCount(page, 1);
    await messageRow(page, 'Holiday photos').waitFor({ timeout: VISIBLE_TIMEOUT_MS });

    // The copy left on the server can be deleted there too (S6); a plain delete would keep it.
    await openFolder(page, HOME, 'Inbox');
    await openMessage(page, 'Welcome home');
    await page.getByRole('article').getByRole('button', { name: 'Delete here and on the server…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete here and on the server?' });
    await confirm.getByRole('button', { name: 'Delete everywhere' }).click();
    await page.getByText('Message deleted here and on the server.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await expect
      .poll(async () => (await readServerMessages(info, home)).map((raw) => raw.toString('utf8')), {
        timeout: SERVER_TIMEOUT_MS,
      })
      .toEqual([expect.stringContaining('Subject: Holiday photos')]);
  });

  it('works offline and comes back: cached mail opens, a flag change and a move are kept, then reach the server', async () => {
    const officeSection = accountSection(page, OFFICE);
    await proxy.off();
    await officeSection.getByRole('button', { name: `Check ${OFFICE} for new mail` }).click();
    await officeSection.getByText('Offline').waitFor({ timeout: SERVER_TIMEOUT_MS });

    await openFolder(page, OFFICE, 'Inbox');
    await page.getByText(/Offline\. What you do now is kept here/).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await openMessage(page, 'Conference badge');
    await page
      .getByRole('toolbar', { name: 'Message actions' })
      .getByLabel('Move to folder')
      .selectOption({ label: 'Projects 2024' });
    await page.getByText('1 message moved to Projects 2024.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    // Read before, so its body is on this computer.
    await openMessage(page, 'Plans for Tuesday');
    await page
      .getByRole('article')
      .getByText('Shall we meet on Tuesday at ten?')
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page
      .getByRole('toolbar', { name: 'Message actions' })
      .getByRole('button', { name: 'Mark as unread' })
      .click();
    await expect
      .poll(() => folderButton(page, OFFICE, 'Inbox').textContent(), { timeout: VISIBLE_TIMEOUT_MS })
      .toBe('Inbox1 unread');
    await session.screenshot('journey-offline');

    // The changes stay: a fresh window shows them, still offline, before the server knows.
    await page.reload();
    await openFolder(page, OFFICE, 'Projects 2024');
    await expectMessageCount(page, 3);
    expect(await folderButton(page, OFFICE, 'Inbox').textContent()).toBe('Inbox1 unread');
    expect(await serverSubjects(info, office, 'Projects 2024')).toEqual(['Budget draft', 'Minutes and figures']);
    expect(
      (await serverMessages(info, office, 'INBOX')).find((entry) => entry.subject === 'Plans for Tuesday')?.flags,
    ).toContain('S');

    await proxy.on();
    await officeSection.getByRole('button', { name: `Check ${OFFICE} for new mail` }).click();
    await officeSection.getByText('Online').waitFor({ timeout: SERVER_TIMEOUT_MS });
    await expect
      .poll(() => serverSubjects(info, office, 'Projects 2024'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual(['Budget draft', 'Conference badge', 'Minutes and figures']);
    await expect
      .poll(
        async () => (await serverMessages(info, office, 'INBOX')).map((entry) => `${entry.subject}:${entry.flags}`),
        {
          timeout: SERVER_TIMEOUT_MS,
        },
      )
      .toEqual(['Minutes and figures:S', 'Plans for Tuesday:']);
    expect(opened.consoleErrors).toEqual([]);
  });
}

for (const shell of SHELLS) {
  const skipReason = shellSkipReason(shell);
  const title = `a first day with Whereabouts in ${shell === 'browser' ? 'browser mode' : 'Electron'}, against the real service and servers`;
  // Electron runs wherever its binary is installed; elsewhere the whole day is reported skipped, with why.
  describe.skipIf(skipReason !== null)(skipReason === null ? title : `${title} (${skipReason})`, () => firstDay(shell));
}
