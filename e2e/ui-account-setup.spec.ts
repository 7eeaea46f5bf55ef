/**
 * Account setup through the real UI in browser mode, against the built host and its real
 * service: the form's checks, the connection test's typed errors in words (a closed port, a
 * certificate nobody signed, with its fingerprint and the choice to trust it), and a real login to
 * the test Dovecot and Postfix that ends with the account in the sidebar.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages } from './mailserver/test-users';
import { startBrowserApp, type BrowserApp } from './support/browser-app';
import { launchChromium } from './support/chromium';
import { openAppPage, screenshot, VISIBLE_TIMEOUT_MS } from './support/ui';

/** A connection test may take a TLS handshake and a login on each server. */
const CONNECT_TIMEOUT_MS = 20_000;

let browser: Browser;
let app: BrowserApp;
let profileDir: string;

beforeAll(async () => {
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-ui-setup-'));
  [browser, app] = await Promise.all([launchChromium(), startBrowserApp({ profileDir })]);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await rm(profileDir, { recursive: true, force: true });
});

/** A port on which nothing listens: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startSetup(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Add an account' }).first().click();
  await page.getByRole('heading', { name: 'Add an account', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
}

async function fillIdentity(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('group', { name: /How should Whereabouts keep/ }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
}

function server(page: Page, legend: RegExp): Locator {
  return page.getByRole('group', { name: legend });
}

async function fillServer(page: Page, legend: RegExp, host: string, port: number): Promise<void> {
  await server(page, legend).getByLabel('Server name').fill(host);
  await server(page, legend).getByLabel('Port').fill(String(port));
}

describe('account setup', () => {
  it('checks the form and says what is wrong next to each field', async () => {
    const { page, consoleErrors, close } = await openAppPage(browser, app.url);
    await startSetup(page);
    await page.getByRole('button', { name: 'Continue' }).click();
    const email = page.getByLabel('Email address');
    expect(await page.getByText('Enter your email address.').isVisible()).toBe(true);
    expect(await page.getByText('Enter the password of this mailbox.').isVisible()).toBe(true);
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    // The error is read with the field.
    const describedBy = (await email.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy.split(' ')[0]}"]`).textContent()).toBe('Enter your email address.');

    await email.fill('not an address');
    await page.getByLabel('Password').fill('secret');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.getByText('This is not an email address like name@example.org.').isVisible()).toBe(true);

    await fillIdentity(page, 'ada@example.org', 'secret');
    // Both modes, each with its one-line consequence; the guessed servers are marked as a guess.
    expect(await page.getByText('Keep mail on the server (IMAP)').isVisible()).toBe(true);
    expect(await page.getByText('Download mail to this computer (POP3)').isVisible()).toBe(true);
    expect(await page.getByText(/a guess to check/).isVisible()).toBe(true);
    expect(
      await server(page, /Incoming mail \(IMAP\)/)
        .getByLabel('Server name')
        .inputValue(),
    ).toBe('imap.example.org');
    expect(await page.getByLabel('User name').inputValue()).toBe('ada@example.org');

    // POP3 brings the leave-a-copy policy; "N days" needs a number.
    await page.getByText('Download mail to this computer (POP3)').click();
    await page.getByLabel('Leave a copy for a number of days').check();
    await page.getByLabel('Days to keep the copy on the server').fill('0');
    await fillServer(page, /Incoming mail \(POP3\)/, 'pop.example.org', 99999);
    await server(page, /Outgoing mail/)
      .getByLabel('Server name')
      .fill('https://smtp.example.org');
    await page.getByRole('button', { name: 'Test connection' }).click();
    expect(await page.getByText('Enter a number of days from 1 to 3650.').isVisible()).toBe(true);
    expect(await page.getByText(/The port is a number from 1 to 65535/).isVisible()).toBe(true);
    expect(await page.getByText(/Give only the server name, without “https:\/\/”/).isVisible()).toBe(true);

    // Plaintext is an explicit choice with its consequence spelled out.
    await server(page, /Incoming mail \(POP3\)/)
      .getByLabel('Security')
      .selectOption('none');
    expect(
      await server(page, /Incoming mail \(POP3\)/)
        .getByLabel('Port')
        .inputValue(),
    ).toBe('99999');
    expect(await page.getByText(/Allow sending my password unencrypted/).isVisible()).toBe(true);
    await screenshot(page, 'account-setup-validation');
    expect(consoleErrors).toEqual([]);
    await close();
  });

  it('says in words that a closed port refused the connection', async () => {
    const port = await closedPort();
    const { page, close } = await openAppPage(browser, app.url);
    await startSetup(page);
    await fillIdentity(page, 'ada@example.org', 'secret');
    await fillServer(page, /Incoming mail \(IMAP\)/, '127.0.0.1', port);
    await fillServer(page, /Outgoing mail/, '127.0.0.1', port);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const results = page.getByRole('list', { name: 'Connection test results' });
    await results.waitFor({ timeout: CONNECT_TIMEOUT_MS });
    const incoming = await results.getByRole('listitem').first().textContent();
    expect(incoming).toContain(`The connection to 127.0.0.1, port ${port} was refused`);
    expect(incoming).toContain('Check the server name and the port number.');
    // Nothing is saved after a failed test.
    expect(await page.getByRole('button', { name: 'Add account' }).count()).toBe(0);
    await screenshot(page, 'account-setup-refused');
    await close();
  });

  it('shows the fingerprint of a certificate nobody signed, and trusting it makes the test pass', async () => {
    const info = inject('mailServer');
    const user = await createTestUser(info);
    const selfSigned = info.badTls.selfSigned;
    const { page, close } = await openAppPage(browser, app.url);
    await startSetup(page);
    await fillIdentity(page, user.email, user.password);
    await fillServer(page, /Incoming mail \(IMAP\)/, selfSigned.host, selfSigned.imaps);
    await fillServer(page, /Outgoing mail/, info.host, info.ports.submissions);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const results = page.getByRole('list', { name: 'Connection test results' });
    await results.waitFor({ timeout: CONNECT_TIMEOUT_MS });
    const incoming = results.getByRole('listitem').first();
    expect(await incoming.textContent()).toContain('is not signed by an authority this computer trusts');
    const shown = selfSigned.fingerprint.toUpperCase().match(/.{2}/g)?.join(':') ?? '';
    expect(await incoming.locator('.fingerprint').textContent()).toBe(shown);
    await screenshot(page, 'account-setup-certificate');

    await incoming.getByRole('button', { name: /Trust this certificate/ }).click();
    await page.getByText(/Incoming mail \(IMAP\): connected and signed in/).waitFor({ timeout: CONNECT_TIMEOUT_MS });
    expect(await page.getByText(/Trusted certificate \(SHA-256\)/).isVisible()).toBe(true);
    await close();
  });

  it('logs in to the test Dovecot and Postfix, adds the account, then lists, opens and marks its mail read', async () => {
    const info = inject('mailServer');
    const user = await createTestUser(info);
    const raws = [0, 1, 2].map((index) =>
      Buffer.from(
        `From: Ada <ada@example.org>\r\nTo: ${user.email}\r\nSubject: Message ${index}\r\n` +
          `Date: Mon, 1 Jan 2024 10:0${index}:00 +0000\r\nMessage-ID: <m${index}.${user.username}@example.org>\r\n` +
          `Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>number ${index}</b></p>\r\n`,
      ),
    );
    await putMessages(info, user, raws);
    const { page, consoleErrors, close } = await openAppPage(browser, app.url);
    await startSetup(page);
    await page.getByLabel('Account name').fill('Test mailbox');
    await fillIdentity(page, user.email, user.password);
    await fillServer(page, /Incoming mail \(IMAP\)/, info.host, info.ports.imaps);
    await fillServer(page, /Outgoing mail/, info.host, info.ports.submissions);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/Incoming mail \(IMAP\): connected and signed in/).waitFor({ timeout: CONNECT_TIMEOUT_MS });
    expect(await page.getByText(/Outgoing mail \(SMTP\): connected and signed in/).isVisible()).toBe(true);
    await screenshot(page, 'account-setup-success');

    await page.getByRole('button', { name: 'Add account' }).click();
    const sidebar = page.getByRole('navigation', { name: 'Accounts and folders' });
    await sidebar.getByRole('heading', { name: 'Test mailbox' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await sidebar.getByText('IMAP', { exact: true }).isVisible()).toBe(true);

    // The real service lists the server's mail; opening a message shows it and marks it read.
    const inbox = sidebar.getByRole('button', { name: /^Inbox/ });
    await inbox.waitFor({ timeout: CONNECT_TIMEOUT_MS });
    await expect.poll(() => inbox.textContent(), { timeout: CONNECT_TIMEOUT_MS }).toBe('Inbox3 unread');
    await inbox.click();
    await page.getByText('3 messages').waitFor({ timeout: CONNECT_TIMEOUT_MS });
    await page.locator('[role="listbox"] [role="option"]', { hasText: 'Message 2' }).click();
    await page.getByRole('heading', { name: 'Message 2', level: 1 }).waitFor({ timeout: CONNECT_TIMEOUT_MS });
    const frame = page.frameLocator('iframe.mail-frame');
    await frame.getByText('number 2').waitFor({ timeout: CONNECT_TIMEOUT_MS });
    await expect.poll(() => inbox.textContent(), { timeout: CONNECT_TIMEOUT_MS }).toBe('Inbox2 unread');
    await screenshot(page, 'real-service-inbox');
    expect(consoleErrors).toEqual([]);
    await close();
  });
});
