/**
 * Export a folder from the UI (issue #6), against the real service and Dovecot: the folder's menu
 * → "Export…" → mbox; the status area shows the export's progress, a toast says where the file
 * went (the Downloads folder of the host's home, a temporary one here), and the file holds every
 * message of the folder byte for byte, bodies that were only on the server included. Behind a
 * slow link, the status area's Cancel stops an export while it downloads, and nothing is left.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { splitMbox } from '../main/service/export-import';
import type { TestUser } from './mailserver/types';
import { createTestUser, putMessages, readServerMessages } from './mailserver/test-users';
import { accountSection, addAccountThroughSetup, SERVER_TIMEOUT_MS, sidebar } from './support/app-page';
import { plainTextMessage } from './support/server-mail';
import { screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';
import { startThrottledProxy, type ThrottledProxy } from './support/throttled-proxy';
import { startUiSession, type UiSession } from './support/ui-session';

const info = inject('mailServer');
const ACCOUNT = 'Exporter';
const COUNT = 30;

let session: UiSession;
let opened: OpenedPage;
let page: Page;
let user: TestUser;
let home: string;
let proxy: ThrottledProxy | null = null;

beforeAll(async () => {
  user = await createTestUser(info);
  await putMessages(
    info,
    user,
    Array.from({ length: COUNT }, (_, index) =>
      plainTextMessage({
        from: 'Ada <ada@example.org>',
        to: user.email,
        subject: `Report ${index + 1}`,
        date: new Date(Date.UTC(2024, 0, 2, 9, index)).toUTCString(),
        messageId: `report${index}.${user.username}@example.org`,
        body: `From the desk of Ada: report ${index + 1}.`,
      }),
    ),
    'Projects',
  );
  home = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-export-home-'));
  session = await startUiSession('ui-export', async () => {}, { HOME: home });
  opened = await session.open({ width: 1280, height: 800 });
  page = opened.page;
});

afterAll(async () => {
  await session?.stop();
  await proxy?.close();
  await rm(home, { recursive: true, force: true });
});

describe('export a folder', () => {
  it('folder menu → Export… → mbox: a toast names the file in Downloads, which holds every message', async () => {
    await addAccountThroughSetup(page, {
      name: ACCOUNT,
      email: user.email,
      password: user.password,
      mode: 'imap',
      incoming: { host: info.host, port: info.ports.imaps },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    // Listed (all 30 unread), its bodies still on the server: the export downloads them first.
    await accountSection(page, ACCOUNT)
      .getByRole('button', { name: new RegExp(`^Projects\\s*${COUNT}\\s+unread$`) })
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    await accountSection(page, ACCOUNT).getByRole('button', { name: 'Actions for folder Projects' }).click();
    await page.getByRole('menuitem', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export “Projects”' });
    await dialog.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await dialog.getByLabel(/^mbox/).check();
    await screenshot(page, 'export-dialog');
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();

    const file = path.join(home, 'Downloads', 'Projects.mbox');
    await page
      .getByText(`Exported ${COUNT} messages to ${file}`, { exact: true })
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    await screenshot(page, 'export-done');
    expect(await readdir(path.join(home, 'Downloads'))).toEqual(['Projects.mbox']);
    const exported = splitMbox(await readFile(file));
    const onServer = await readServerMessages(info, user, 'Projects');
    expect(exported.length).toBe(COUNT);
    expect(exported.map((raw) => raw.toString('latin1'))).toEqual(onServer.map((raw) => raw.toString('latin1')));
    expect(opened.consoleErrors).toEqual([]);
  });

  it('the status area shows the export while it downloads; Cancel stops it and nothing is left', async () => {
    const SLOW = 'Slow link';
    const slow = await createTestUser(info);
    await putMessages(
      info,
      slow,
      Array.from({ length: 30 }, (_, index) =>
        plainTextMessage({
          from: 'Ada <ada@example.org>',
          to: slow.email,
          subject: `Scan ${index + 1}`,
          date: new Date(Date.UTC(2024, 0, 2, 9, index)).toUTCString(),
          messageId: `scan${index}.${slow.username}@example.org`,
          body: 'A scanned page. '.repeat(4_000),
        }),
      ),
      'Scans',
    );
    proxy = await startThrottledProxy({ host: info.host, port: info.ports.imaps }, 200 * 1024);
    await addAccountThroughSetup(page, {
      name: SLOW,
      email: slow.email,
      password: slow.password,
      mode: 'imap',
      incoming: { host: '127.0.0.1', port: proxy.port },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    await accountSection(page, SLOW)
      .getByRole('button', { name: /^Scans\s*30\s+unread$/ })
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    await accountSection(page, SLOW).getByRole('button', { name: 'Actions for folder Scans' }).click();
    await page.getByRole('menuitem', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export “Scans”' });
    await dialog.getByLabel(/^\.eml files/).check();
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();

    const status = sidebar(page).getByRole('status').filter({ hasText: SLOW });
    await status.getByText(/Downloading messages in Scans · [\d,]+ of 30/).waitFor({ timeout: SERVER_TIMEOUT_MS });
    await screenshot(page, 'export-running');
    await status.getByRole('button', { name: `Cancel the export of ${SLOW}` }).click();
    await status
      .getByText(/Export stopped while downloading: [\d,]+ of 30 messages downloaded and kept; nothing was exported\./)
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    await screenshot(page, 'export-stopped');
    // Only the first test's export is there; no toast claims an export.
    expect(await readdir(path.join(home, 'Downloads'))).toEqual(['Projects.mbox']);
    expect(await page.getByText(/^Exported .* to .*Scans/).count()).toBe(0);
    expect(opened.consoleErrors).toEqual([]);
  });
});
