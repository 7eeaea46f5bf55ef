/**
 * The composer against the real service (the BUILT browser-mode host) and the real Dovecot and
 * Postfix, through the UI only: a recipient completed from known addresses with the keyboard, the
 * draft saved by itself into the server's Drafts folder (\Draft), closed, reopened from Drafts,
 * written on in rich text, and sent: the recipient's copy has the bold text as HTML, and the
 * draft is gone from the server.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestUser } from './mailserver/types';
import { createTestUser, putMessages, readServerMessages } from './mailserver/test-users';
import { addAccountThroughSetup, folderButton, messageRow, openFolder, SERVER_TIMEOUT_MS } from './support/app-page';
import { serverMessages, plainTextMessage } from './support/server-mail';
import { screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';
import { startUiSession, type UiSession } from './support/ui-session';

const info = inject('mailServer');
const OFFICE = 'Office';

let session: UiSession;
let opened: OpenedPage;
let page: Page;
let office: TestUser;
let friend: TestUser;

function message(from: string, to: string, subject: string, minute: number): Buffer {
  return plainTextMessage({
    from,
    to,
    subject,
    date: `Mon, 1 Jan 2024 10:${String(minute).padStart(2, '0')}:00 +0000`,
    messageId: `${subject.replace(/\W+/g, '-')}@example.org`,
    body: `Body of ${subject}`,
  });
}

beforeAll(async () => {
  [office, friend] = await Promise.all([createTestUser(info), createTestUser(info)]);
  await putMessages(info, office, [
    message(`Friend Fairweather <${friend.email}>`, office.email, 'Lunch on Friday', 1),
    message(`Friend Fairweather <${friend.email}>`, office.email, 'Slides', 2),
    message('Frank Other <frank@other.example>', office.email, 'Hello', 3),
  ]);
  session = await startUiSession('ui-drafts');
  opened = await session.open({ width: 1440, height: 900 });
  page = opened.page;
});

afterAll(async () => {
  await session?.stop();
});

describe('drafts and the composer, against the real service and servers', () => {
  it('completes an address with the keyboard, autosaves to the server Drafts, reopens it and sends rich text', async () => {
    await addAccountThroughSetup(page, {
      name: OFFICE,
      email: office.email,
      password: office.password,
      mode: 'imap',
      incoming: { host: info.host, port: info.ports.imaps },
      smtp: { host: info.host, port: info.ports.submissions },
    });
    await expect
      .poll(() => folderButton(page, OFFICE, 'Inbox').textContent(), { timeout: SERVER_TIMEOUT_MS })
      .toBe('Inbox3 unread');

    await page
      .getByRole('button', { name: /New message|Compose|Write/ })
      .first()
      .click();
    const composer = page.getByRole('region', { name: 'New message' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const to = composer.getByRole('combobox', { name: 'To' });
    await to.pressSequentially('fr');
    const suggestions = composer.getByRole('listbox', { name: 'Suggested addresses' });
    await suggestions.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    // Friend wrote twice, Frank once: Friend first; the arrow moves to Frank and back.
    expect(await suggestions.getByRole('option').allTextContents()).toEqual([
      `Friend Fairweather${friend.email}`,
      'Frank Otherfrank@other.example',
    ]);
    expect(await to.getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'composer-completion');
    await to.press('ArrowDown');
    expect(await suggestions.getByRole('option', { selected: true }).textContent()).toContain('Frank');
    await to.press('ArrowUp');
    await to.press('Enter');
    expect(await to.inputValue()).toBe(`Friend Fairweather <${friend.email}>, `);
    expect(await to.getAttribute('aria-expanded')).toBe('false');
    expect(await composer.count()).toBe(1);
    // Escape closes the list, not the composer.
    await to.pressSequentially('fra');
    await suggestions.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await to.press('Escape');
    expect(await to.getAttribute('aria-expanded')).toBe('false');
    expect(await composer.count()).toBe(1);
    await to.fill(`Friend Fairweather <${friend.email}>`);

    await composer.getByLabel('Subject').fill('Agenda for Friday');
    await composer.getByLabel('Message').fill('First point: lunch.');
    // Saved by itself a few seconds after the last edit, into the server's Drafts with \Draft.
    const state = composer.getByRole('status');
    await state.filter({ hasText: /^Saved$/ }).waitFor({ timeout: SERVER_TIMEOUT_MS });
    await expect
      .poll(() => serverMessages(info, office, 'Drafts'), { timeout: SERVER_TIMEOUT_MS })
      .toEqual([{ subject: 'Agenda for Friday', flags: expect.stringContaining('D') }]);
    await screenshot(page, 'composer-saved');

    await composer.getByRole('button', { name: 'Close' }).click();
    await composer.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
    await openFolder(page, OFFICE, 'Drafts');
    await messageRow(page, 'Agenda for Friday').dblclick();
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await composer.getByLabel('To').inputValue()).toBe(`Friend Fairweather <${friend.email}>`);
    expect(await composer.getByLabel('Subject').inputValue()).toBe('Agenda for Friday');
    expect(await composer.getByLabel('Message').inputValue()).toBe('First point: lunch.');

    // Rich text: the plain text carries over; bold is typed with the keyboard.
    await composer.getByRole('button', { name: 'Rich text' }).click();
    const editor = composer.getByRole('textbox', { name: 'Message' });
    await editor.click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('Second point: ');
    await page.keyboard.press('Control+b');
    await page.keyboard.type('bring slides');
    await page.keyboard.press('Control+b');
    expect(await composer.getByRole('button', { name: 'Bold' }).getAttribute('aria-pressed')).toBe('false');
    await page.keyboard.press('Control+s');
    await state.filter({ hasText: /^Saved$/ }).waitFor({ timeout: SERVER_TIMEOUT_MS });
    await screenshot(page, 'composer-rich');
    await expect
      .poll(async () => (await serverMessages(info, office, 'Drafts')).map((entry) => entry.subject), {
        timeout: SERVER_TIMEOUT_MS,
      })
      .toEqual(['Agenda for Friday']);

    await composer.getByRole('button', { name: 'Send' }).click();
    await composer.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
    let received: Buffer[] = [];
    await expect
      .poll(
        async () => {
          received = await readServerMessages(info, friend);
          return received.length;
        },
        { timeout: SERVER_TIMEOUT_MS },
      )
      .toBe(1);
    const raw = received[0].toString('utf8');
    expect(raw).toMatch(/Content-Type: multipart\/alternative/i);
    expect(raw).toMatch(/<(strong|b)>bring slides<\/(strong|b)>/);
    expect(raw).toContain('Second point: bring slides');
    // Sent: the draft is gone, here and on the server.
    await expect.poll(() => serverMessages(info, office, 'Drafts'), { timeout: SERVER_TIMEOUT_MS }).toEqual([]);
    expect(opened.consoleErrors).toEqual([]);
  });

  it('a reply in rich text quotes the message as a block quote; untouched, it is discarded without asking', async () => {
    await openFolder(page, OFFICE, 'Inbox');
    await messageRow(page, 'Lunch on Friday').click();
    await page.getByRole('heading', { name: 'Lunch on Friday', level: 1 }).waitFor({ timeout: SERVER_TIMEOUT_MS });
    await page.getByRole('article').getByText('Body of Lunch on Friday').waitFor({ timeout: SERVER_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    const composer = page.getByRole('region', { name: 'Reply' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    // Rich text was chosen last time, so the reply starts in it.
    expect(await composer.getByRole('button', { name: 'Rich text' }).getAttribute('aria-pressed')).toBe('true');
    const quote = composer.getByRole('textbox', { name: 'Message' }).locator('blockquote');
    expect(await quote.textContent()).toContain('Body of Lunch on Friday');
    await screenshot(page, 'composer-reply-rich');
    await composer.getByRole('button', { name: 'Discard' }).click();
    await composer.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
    expect(await serverMessages(info, office, 'Drafts')).toEqual([]);
    expect(opened.consoleErrors).toEqual([]);
  });
});
