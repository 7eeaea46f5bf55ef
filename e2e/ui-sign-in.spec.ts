/**
 * Signing in with a provider (OAuth 2.0 in the system browser, RFC 8252) and iCloud's app-specific
 * passwords, through the real UI against the scripted service on the real host: there is no real
 * provider here, so the spec plays the browser's part (the service's oauthSignInFinished event) and
 * asserts what the UI asked the service for and what it showed at each step.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewAccountRequest, OAuthSignInRequest } from '../shared/api';
import { MailError } from '../shared/errors';
import type { WebHost } from '../main/web/web-host';
import { launchChromium } from './support/chromium';
import {
  createScriptedService,
  scriptedAccount,
  serveScripted,
  type ScriptedService,
} from './support/scripted-service';
import { openAppPage, screenshot, VISIBLE_TIMEOUT_MS, type OpenedPage } from './support/ui';

let browser: Browser;
let service: ScriptedService;
let host: WebHost;

beforeAll(async () => {
  service = createScriptedService();
  // An account whose provider withdrew this computer's sign-in.
  service.accounts.push({
    ...scriptedAccount('school', 'School', 'me@gmail.com', 'imap'),
    auth: { kind: 'oauth2', provider: 'google' },
    connectivity: 'error',
    lastError: { code: 'AUTH_FAILED', message: 'Google no longer accepts this sign-in.' },
    signInRequired: true,
  });
  service.folders.push({
    view: {
      id: 'school-inbox',
      accountId: 'school',
      name: 'Inbox',
      path: 'INBOX',
      delimiter: '/',
      role: 'inbox',
      kind: 'server',
      subscribed: true,
      keepOffline: false,
      total: 0,
      unread: 0,
    },
    count: 4,
  });
  [browser, host] = await Promise.all([launchChromium(), serveScripted(service)]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

function callsOf<T>(method: string): T[] {
  return service.calls.filter((call) => call.method === method).map((call) => call.request as T);
}

async function openSetup(): Promise<OpenedPage> {
  const opened = await openAppPage(browser, host.url, { width: 1280, height: 900 });
  await opened.page.getByRole('button', { name: 'Add an account' }).first().click();
  await opened.page.getByRole('heading', { name: 'Add an account', level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  return opened;
}

async function continueWith(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('signing in with a provider', () => {
  it('offers “Sign in with Google” for Gmail, waits for the browser, can cancel, reports a failure, then adds the account', async () => {
    service.calls.length = 0;
    const { page, consoleErrors, close } = await openSetup();
    await page.getByLabel('Account name').fill('Personal');
    // No password: Gmail is signed in to in the browser.
    await continueWith(page, 'ada@gmail.com');
    await page.getByText('Whereabouts knows the settings for Gmail.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(callsOf('lookUpProvider')).toEqual([{ email: 'ada@gmail.com' }]);
    expect(callsOf('discoverSettings')).toEqual([{ email: 'ada@gmail.com' }]);
    const incoming = page.getByRole('group', { name: /Incoming mail \(IMAP\)/ });
    expect(await incoming.getByLabel('Server name').inputValue()).toBe('imap.gmail.com');
    expect(await incoming.getByLabel('Port').inputValue()).toBe('993');
    // Nothing to test before signing in.
    expect(await page.getByRole('button', { name: 'Test connection' }).count()).toBe(0);

    const signIn = page.getByRole('region', { name: 'Sign in with Google' });
    await signIn.getByRole('button', { name: 'Sign in with Google' }).click();
    await signIn.getByText('Waiting for you to sign in in your browser…').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(callsOf<OAuthSignInRequest>('startOAuthSignIn')).toEqual([{ email: 'ada@gmail.com', provider: 'google' }]);
    // This shell could not open the browser itself: the page to open is offered as a link.
    const link = signIn.getByRole('link', { name: 'Open the sign-in page' });
    expect(await link.getAttribute('href')).toBe(
      'https://accounts.google.example/authorize?login_hint=ada%40gmail.com',
    );
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    await screenshot(page, 'account-setup-oauth-waiting');

    await signIn.getByRole('button', { name: 'Cancel' }).click();
    await signIn.getByRole('button', { name: 'Sign in with Google' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await expect.poll(() => callsOf('cancelOAuthSignIn')).toEqual([{ signInId: 'sign-in-1' }]);

    // The person denies access in the browser.
    await signIn.getByRole('button', { name: 'Sign in with Google' }).click();
    await signIn.getByText('Waiting for you to sign in in your browser…').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(service.signInIds).toEqual(['sign-in-1', 'sign-in-2']);
    service.finishSignIn('sign-in-2', {
      ok: false,
      error: new MailError('AUTH_FAILED', 'Google did not grant access: access_denied.'),
    });
    const failure = signIn.getByRole('alert');
    await failure.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await failure.textContent()).toContain('The sign-in did not finish.');

    // Then allows it: the connection is tested with the sign-in's tokens, never a password.
    await signIn.getByRole('button', { name: 'Sign in with Google' }).click();
    await signIn.getByText('Waiting for you to sign in in your browser…').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    service.finishSignIn('sign-in-3', { ok: true });
    await signIn.getByText('Signed in with Google as ada@gmail.com.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.getByText(/Incoming mail \(IMAP\): connected and signed in/).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const [tested] = callsOf<NewAccountRequest>('testConnection');
    expect(tested.signInId).toBe('sign-in-3');
    expect(tested.password).toBeUndefined();
    expect(tested.settings.auth).toEqual({ kind: 'oauth2', provider: 'google' });
    expect(tested.settings.imap).toMatchObject({ host: 'imap.gmail.com', port: 993, security: 'tls' });

    await page.getByRole('button', { name: 'Add account' }).click();
    const sidebar = page.getByRole('navigation', { name: 'Accounts and folders' });
    await sidebar.getByRole('heading', { name: 'Personal' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const [added] = callsOf<NewAccountRequest>('addAccount');
    expect(added.signInId).toBe('sign-in-3');
    expect(added.password).toBeUndefined();
    expect(added.settings).toMatchObject({ email: 'ada@gmail.com', username: 'ada@gmail.com', mode: 'imap' });
    expect(consoleErrors).toEqual([]);
    await close();
  });

  it('asks iCloud users for an app-specific password, with the help to make one, and offers IMAP only', async () => {
    const { page, close } = await openSetup();
    await continueWith(page, 'me@icloud.com');
    const help = page.getByRole('note').filter({ hasText: 'iCloud Mail needs an app-specific password.' });
    await help.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await help.getByRole('link', { name: 'How to make an app-specific password' }).getAttribute('href')).toBe(
      'https://support.apple.com/102654',
    );
    expect(await page.getByRole('radio', { name: /Download mail to this computer \(POP3\)/ }).isDisabled()).toBe(true);
    expect(await page.getByText('iCloud Mail does not offer POP3.').isVisible()).toBe(true);
    expect(await page.getByRole('region', { name: /Sign in with/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Test connection' }).click();
    expect(await page.getByText('Enter the password of this mailbox.').isVisible()).toBe(true);
    await page.getByLabel('App-specific password').fill('abcd-efgh-ijkl-mnop');
    service.calls.length = 0;
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/Incoming mail \(IMAP\): connected and signed in/).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const [tested] = callsOf<NewAccountRequest>('testConnection');
    expect(tested.password).toBe('abcd-efgh-ijkl-mnop');
    expect(tested.settings.smtp).toMatchObject({ host: 'smtp.mail.me.com', port: 587, security: 'starttls' });
    await screenshot(page, 'account-setup-icloud');
    await close();
  });

  it('fills the form from the settings a domain publishes (autoconfig, RFC 6186 SRV)', async () => {
    const { page, close } = await openSetup();
    await page.getByLabel('Password').fill('secret');
    service.calls.length = 0;
    await continueWith(page, 'ada@published.example');
    await page
      .getByText('Found the settings for Published Mail. Check them, then test the connection.')
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(callsOf('discoverSettings')).toEqual([{ email: 'ada@published.example' }]);
    const incoming = page.getByRole('group', { name: /Incoming mail \(IMAP\)/ });
    expect(await incoming.getByLabel('Server name').inputValue()).toBe('mail.published.example');
    const outgoing = page.getByRole('group', { name: /Outgoing mail/ });
    expect(await outgoing.getByLabel('Server name').inputValue()).toBe('submit.published.example');
    expect(await outgoing.getByLabel('Port').inputValue()).toBe('587');
    expect(await outgoing.getByLabel('Security').inputValue()).toBe('starttls');
    // The login name the domain gives, not the whole address.
    expect(await page.getByLabel('User name').inputValue()).toBe('ada');
    expect(await page.getByText(/a guess to check/).count()).toBe(0);
    await close();
  });

  it('still asks for the password of an address no provider preset knows', async () => {
    const { page, close } = await openSetup();
    service.calls.length = 0;
    await continueWith(page, 'ada@example.org');
    await page.getByText('Enter the password of this mailbox.').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(callsOf('lookUpProvider')).toEqual([{ email: 'ada@example.org' }]);
    expect(await page.getByRole('group', { name: /How should Whereabouts keep/ }).count()).toBe(0);
    await close();
  });
});

describe('signing in again', () => {
  it('says so in the sidebar, and “Sign in again” starts a sign-in for that account', async () => {
    const { page, close } = await openAppPage(browser, host.url, { width: 1280, height: 900 });
    const school = page
      .getByRole('navigation', { name: 'Accounts and folders' })
      .getByRole('region', { name: 'School' });
    const notice = school.getByRole('alert');
    await notice.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await notice.textContent()).toContain('Google no longer accepts this computer’s sign-in.');
    await page
      .locator('[role="listbox"] [role="option"] .message-row__from')
      .nth(3)
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await notice.scrollIntoViewIfNeeded();
    await screenshot(page, 'sign-in-required');
    service.calls.length = 0;
    await notice.getByRole('button', { name: 'Sign in again' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in to “School” again' });
    await dialog.getByRole('button', { name: 'Sign in with Google' }).click();
    await dialog.getByText('Waiting for you to sign in in your browser…').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const [started] = callsOf<OAuthSignInRequest>('startOAuthSignIn');
    expect(started).toEqual({ email: 'me@gmail.com', provider: 'google', accountId: 'school' });
    service.finishSignIn(service.signInIds[service.signInIds.length - 1], { ok: true });
    await page
      .getByText('Signed in to Google again. “School” reconnects now.')
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await dialog.waitFor({ state: 'detached', timeout: VISIBLE_TIMEOUT_MS });
    await close();
  });
});
