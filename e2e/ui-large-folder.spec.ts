/**
 * A folder of 100,000 messages on the REAL service through the UI, once in each shell: browser
 * mode (the built host and its SQLite index, in Debian's Chromium) and Electron (the built app,
 * where its binary is installed; reported skipped, with the reason, where it is not). The index is
 * filled once, before any host starts, the way an IMAP initial sync leaves it (header-only rows),
 * into a template profile that each shell gets a copy of; the account's server is unreachable, so
 * nothing but the index answers. Open the folder, jump to its end, search it. Times are printed.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../main/accounts/account-store';
import { secretKey } from '../main/accounts/secret-store';
import { openFileSecretStore } from '../main/accounts/secrets';
import { openMessageStore } from '../main/store/message-store';
import type { HeaderOnlyInput } from '../main/store/types';
import { folderButton, messageRows, SERVER_TIMEOUT_MS } from './support/app-page';
import { shellSkipReason, SHELLS, startShellSession, type Shell, type ShellSession } from './support/shell-session';
import { VISIBLE_TIMEOUT_MS } from './support/ui';

const FOLDER_SIZE = 100_000;
const BATCH_ROWS = 10_000;
const ACCOUNT = 'Archive';
/** In the subject of every 10,000th message. */
const RARE_WORD = 'quetzalcoatl';
/** Message i is this much older than message i - 1, so the newest is i = 0 and the oldest the last. */
const SPACING_MS = 7 * 60 * 1000;
const NEWEST_MS = Date.UTC(2024, 5, 1, 9, 0, 0);
/** What a person still feels as immediate for a screenful of a huge folder. */
const INTERACTIVE_MS = 3_000;

/** Saved for the account, so it is simply offline (its server refuses connections). */
const PASSWORD = 'not-needed-offline';

interface SeededProfile {
  directory: string;
  accountId: string;
  seedMs: number;
}

/** The template's folder, once made (removed after the last shell). */
let templateDir: string | null = null;
let template: Promise<SeededProfile> | null = null;

/** A port on which nothing listens: the account's server is "unreachable", so only the index answers. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function subjectOf(index: number): string {
  return `Report ${index}${index % 10_000 === 0 ? ` ${RARE_WORD}` : ''}`;
}

/** The account and its 100,000 header-only messages; no password (each shell saves it its own way). */
async function seedProfile(directory: string): Promise<string> {
  const port = await closedPort();
  const accounts = new AccountStore(directory);
  const account = await accounts.add({
    name: ACCOUNT,
    email: 'archive@example.org',
    mode: 'imap',
    username: 'archive@example.org',
    imap: { host: '127.0.0.1', port, security: 'tls' },
    pop3: null,
    smtp: { host: '127.0.0.1', port, security: 'tls' },
    leaveOnServer: { kind: 'off' },
    offlineFolders: [],
    checkIntervalMinutes: 0,
  });
  const store = await openMessageStore({ profileDir: directory });
  try {
    await store.upsertAccount(account);
    const inbox = await store.upsertFolder({ accountId: account.id, kind: 'server', path: 'INBOX', role: 'inbox' });
    for (let start = 0; start < FOLDER_SIZE; start += BATCH_ROWS) {
      const batch: HeaderOnlyInput[] = [];
      for (let index = start; index < start + BATCH_ROWS; index += 1) {
        batch.push({
          folderId: inbox.id,
          imap: { uidvalidity: 1, uid: FOLDER_SIZE - index },
          envelope: {
            messageId: `<m${index}@archive.example>`,
            // Every tenth message answers the next (older) one, stored after it: 90,000 conversations.
            inReplyTo: index % 10 === 0 ? `<m${index + 1}@archive.example>` : null,
            references: index % 10 === 0 ? [`<m${index + 1}@archive.example>`] : [],
            subject: subjectOf(index),
            from: { name: `Sender ${index % 97}`, address: `s${index % 97}@archive.example` },
            to: [{ name: '', address: 'archive@example.org' }],
            cc: [],
            bcc: [],
            replyTo: [],
            date: new Date(NEWEST_MS - index * SPACING_MS).toISOString(),
          },
          size: 2_000 + (index % 5_000),
          flags: index % 3 === 0 ? [] : ['\\Seen'],
        });
      }
      store.insertHeaderOnlyBatch(batch);
    }
  } finally {
    store.close();
  }
  return account.id;
}

/** Seeds the template the first time a shell asks for it: filling 100,000 rows takes seconds, copying them far less. */
function seededTemplate(): Promise<SeededProfile> {
  template ??= (async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-ui-100k-template-'));
    templateDir = directory;
    const started = performance.now();
    const accountId = await seedProfile(directory);
    return { directory, accountId, seedMs: performance.now() - started };
  })();
  return template;
}

afterAll(async () => {
  if (templateDir !== null) await rm(templateDir, { recursive: true, force: true });
});

/**
 * Electron seals saved passwords with the OS keychain (safeStorage), which only the running app can
 * use, so a secrets file written from here would not open there: the password is saved as a user
 * would, in the account's settings, and the account then goes offline like the browser's.
 */
async function savePasswordInSettings(page: Page): Promise<void> {
  await page.getByRole('button', { name: `Settings of ${ACCOUNT}` }).click();
  await page.getByRole('heading', { name: ACCOUNT, level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved.').waitFor({ timeout: SERVER_TIMEOUT_MS });
}

/** Registers the whole journey for one shell, on its own copy of the seeded profile. */
function largeFolder(shell: Shell): void {
  let session: ShellSession;
  let page: Page;
  let seedMs = 0;
  let copyMs = 0;

  beforeAll(async () => {
    // prepare runs before the host or app starts (browser mode launches Chromium meanwhile): they open the filled profile.
    session = await startShellSession(
      shell,
      'ui-100k',
      { width: 1280, height: 860 },
      {
        prepare: async (profileDir) => {
          const seeded = await seededTemplate();
          seedMs = seeded.seedMs;
          const started = performance.now();
          await cp(seeded.directory, profileDir, { recursive: true });
          copyMs = performance.now() - started;
          if (shell === 'browser') {
            // Browser mode keeps passwords in the profile's key-file secrets, which this process can write.
            const secrets = await openFileSecretStore(profileDir);
            await secrets.set(secretKey(seeded.accountId, 'password'), PASSWORD);
          }
        },
      },
    );
    page = session.opened.page;
    if (shell === 'electron') await savePasswordInSettings(page);
  }, 120_000);

  afterAll(async () => {
    await session?.stop();
  });

  it('opens at once, jumps to its oldest message with End, and finds by search', async () => {
    await page.getByRole('region', { name: ACCOUNT }).getByText('Offline').waitFor({ timeout: SERVER_TIMEOUT_MS });
    const inbox = folderButton(page, ACCOUNT, 'Inbox');
    await inbox.waitFor({ timeout: SERVER_TIMEOUT_MS });
    let started = performance.now();
    await inbox.click();
    await page.getByText('100,000 messages').waitFor({ timeout: SERVER_TIMEOUT_MS });
    await messageRows(page).first().locator('.message-row__subject').waitFor({ timeout: SERVER_TIMEOUT_MS });
    const openMs = performance.now() - started;
    expect(await messageRows(page).first().locator('.message-row__subject').textContent()).toBe(subjectOf(0));
    expect(await messageRows(page).count()).toBeLessThan(60);

    // Drag the scroll bar to the bottom: the last page is asked for, not the 99,900 rows before it.
    started = performance.now();
    await page.getByRole('listbox').evaluate((list) => list.scrollTo({ top: list.scrollHeight }));
    const bottom = page.locator(`[role="option"][aria-posinset="${FOLDER_SIZE}"]`);
    await expect
      .poll(() => bottom.locator('.message-row__subject').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe(subjectOf(FOLDER_SIZE - 1));
    const scrollMs = performance.now() - started;

    await page.getByRole('listbox').evaluate((list) => list.scrollTo({ top: 0 }));
    await messageRows(page).first().click();
    started = performance.now();
    await page.getByRole('listbox').press('End');
    const last = page.locator(`[role="option"][aria-posinset="${FOLDER_SIZE}"]`);
    await last.locator('.message-row__subject').waitFor({ timeout: SERVER_TIMEOUT_MS });
    const endMs = performance.now() - started;
    expect(await last.locator('.message-row__subject').textContent()).toBe(subjectOf(FOLDER_SIZE - 1));
    expect(await last.getAttribute('aria-selected')).toBe('true');
    // Scrolled into full view, not left half below the edge.
    await expect
      .poll(
        () =>
          last.evaluate((row) => {
            const list = row.closest('[role="listbox"]')?.getBoundingClientRect();
            const box = row.getBoundingClientRect();
            return list !== undefined && box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
          }),
        { timeout: VISIBLE_TIMEOUT_MS },
      )
      .toBe(true);
    // The reader opens the header-only message; the server is unreachable, so it says so.
    await page
      .getByRole('heading', { name: subjectOf(FOLDER_SIZE - 1), level: 1 })
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await session.screenshot('message-list-100k-real-end');

    started = performance.now();
    await page.getByRole('searchbox', { name: 'Search mail' }).fill(RARE_WORD);
    const results = page.getByRole('listbox', { name: `Search results for “${RARE_WORD}”` });
    await results.waitFor({ timeout: SERVER_TIMEOUT_MS });
    await page.getByText('10 results').waitFor({ timeout: SERVER_TIMEOUT_MS });
    const searchMs = performance.now() - started;
    const subjects = await results.locator('.message-row__subject').allTextContents();
    expect(subjects.length).toBeGreaterThan(0);
    expect(subjects.every((subject) => subject.includes(RARE_WORD))).toBe(true);
    await session.screenshot('message-list-100k-real-search');

    process.stdout.write(
      `100k real service (${shell}): seeding ${Math.round(seedMs)} ms once, copying ${Math.round(copyMs)} ms, folder open ${Math.round(openMs)} ms, scrolled to the bottom ${Math.round(scrollMs)} ms, End ${Math.round(endMs)} ms, search ${Math.round(searchMs)} ms (incl. 250 ms typing pause)\n`,
    );
    expect(openMs).toBeLessThan(INTERACTIVE_MS);
    expect(endMs).toBeLessThan(INTERACTIVE_MS);
    expect(scrollMs).toBeLessThan(INTERACTIVE_MS);
  });

  it('groups the whole folder into conversations that expand, and jumps to the last one', async () => {
    await page.getByRole('searchbox', { name: 'Search mail' }).fill('');
    await page.getByText('100,000 messages').waitFor({ timeout: SERVER_TIMEOUT_MS });
    let started = performance.now();
    await page.getByRole('button', { name: /Conversations/ }).click();
    await page.getByText('100,000 messages in 90,000 conversations').waitFor({ timeout: SERVER_TIMEOUT_MS });
    const first = messageRows(page).first();
    await expect.poll(() => first.locator('.message-row__subject').textContent()).toBe(subjectOf(0));
    const groupMs = performance.now() - started;
    started = performance.now();
    await first.getByRole('button', { name: /2 messages in this conversation; expand/ }).click();
    await expect.poll(() => first.getAttribute('aria-expanded')).toBe('true');
    const nested = page.locator('[role="option"][aria-posinset="2"]');
    await expect
      .poll(() => nested.locator('.message-row__subject').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe(subjectOf(1));
    expect(await nested.getAttribute('class')).toContain('message-row--nested');
    const expandMs = performance.now() - started;

    await messageRows(page).first().click();
    started = performance.now();
    await page.getByRole('listbox').press('End');
    // 90,000 conversations and the expanded one's second message.
    const last = page.locator('[role="option"][aria-posinset="90001"]');
    await expect
      .poll(() => last.locator('.message-row__subject').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe(subjectOf(FOLDER_SIZE - 1));
    const endMs = performance.now() - started;
    await session.screenshot('message-list-100k-real-conversations');
    process.stdout.write(
      `100k real service (${shell}), conversations: grouped ${Math.round(groupMs)} ms, expanded ${Math.round(expandMs)} ms, End ${Math.round(endMs)} ms\n`,
    );
    expect(groupMs).toBeLessThan(INTERACTIVE_MS);
    expect(endMs).toBeLessThan(INTERACTIVE_MS);
  });
}

for (const shell of SHELLS) {
  const skipReason = shellSkipReason(shell);
  const title = `a folder of ${FOLDER_SIZE.toLocaleString('en')} messages on the real service in ${shell === 'browser' ? 'browser mode' : 'Electron'}`;
  // Electron runs wherever its binary is installed; elsewhere its journey is reported skipped, with why.
  describe.skipIf(skipReason !== null)(skipReason === null ? title : `${title} (${skipReason})`, () =>
    largeFolder(shell),
  );
}
