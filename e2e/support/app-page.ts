/**
 * What the journeys do again and again through the real UI, written once: add an account on the
 * setup screen, find the sidebar, a folder, a message row. Only what a person sees and clicks.
 */
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { VISIBLE_TIMEOUT_MS } from './ui';

/** A connection test or a first sync: a TLS handshake and a login on each server, on a busy machine. */
export const SERVER_TIMEOUT_MS = 20_000;

export interface SetupInput {
  name: string;
  email: string;
  password: string;
  mode: 'imap' | 'pop3';
  incoming: { host: string; port: number };
  smtp: { host: string; port: number };
  /** POP3 only: the label of the leave-a-copy choice, e.g. "Leave a copy on the server forever". */
  leaveOnServer?: string;
}

export function sidebar(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Accounts and folders' });
}

export function accountSection(page: Page, name: string): Locator {
  return sidebar(page).getByRole('region', { name });
}

/** The folder's button in the sidebar (its name, then its unread count if any). */
export function folderButton(page: Page, account: string, folder: string): Locator {
  const escaped = folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return accountSection(page, account).getByRole('button', {
    name: new RegExp(`^${escaped}(\\s*[\\d,.\\s]+ unread)?$`),
  });
}

export function messageRows(page: Page): Locator {
  return page.locator('[role="listbox"] [role="option"]');
}

export function messageRow(page: Page, subject: string): Locator {
  return messageRows(page).filter({ hasText: subject });
}

/** Adds an account on the setup screen and waits until it is in the sidebar. */
export async function addAccountThroughSetup(page: Page, input: SetupInput): Promise<void> {
  const addButton = page.getByRole('button', { name: 'Add an account' }).first();
  await addButton.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  await addButton.click();
  await page.getByRole('heading', { name: 'Add an account', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  await page.getByLabel('Email address').fill(input.email);
  await page.getByLabel('Password').fill(input.password);
  await page.getByLabel('Account name').fill(input.name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('group', { name: /How should Whereabouts keep/ }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  const modeTitle = input.mode === 'imap' ? 'Keep mail on the server (IMAP)' : 'Download mail to this computer (POP3)';
  await page.getByText(modeTitle).click();
  if (input.leaveOnServer !== undefined) await page.getByLabel(input.leaveOnServer).check();
  const incoming = page.getByRole('group', {
    name: input.mode === 'imap' ? /Incoming mail \(IMAP\)/ : /Incoming mail \(POP3\)/,
  });
  await incoming.getByLabel('Server name').fill(input.incoming.host);
  await incoming.getByLabel('Port').fill(String(input.incoming.port));
  const outgoing = page.getByRole('group', { name: /Outgoing mail/ });
  await outgoing.getByLabel('Server name').fill(input.smtp.host);
  await outgoing.getByLabel('Port').fill(String(input.smtp.port));
  await page.getByRole('button', { name: 'Test connection' }).click();
  const add = page.getByRole('button', { name: 'Add account' });
  await add.waitFor({ timeout: SERVER_TIMEOUT_MS });
  await add.click();
  await sidebar(page).getByRole('heading', { name: input.name }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
}

/** Opens a folder from the sidebar and waits for its heading. */
export async function openFolder(page: Page, account: string, folder: string): Promise<void> {
  const button = folderButton(page, account, folder);
  await button.waitFor({ timeout: SERVER_TIMEOUT_MS });
  await button.click();
  await page.getByRole('heading', { name: folder, level: 2 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
}

/** Opens a message from the list and waits for the reader's heading. */
export async function openMessage(page: Page, subject: string): Promise<void> {
  const row = messageRow(page, subject).first();
  await row.waitFor({ timeout: SERVER_TIMEOUT_MS });
  await row.click();
  await page.getByRole('heading', { name: subject, level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
}

/** Waits until the list header says how many messages the folder holds. */
export async function expectMessageCount(page: Page, count: number): Promise<void> {
  const label = `${count} ${count === 1 ? 'message' : 'messages'}`;
  await expect
    .poll(() => page.locator('.list-header__count').textContent(), { timeout: SERVER_TIMEOUT_MS })
    .toBe(label);
}
