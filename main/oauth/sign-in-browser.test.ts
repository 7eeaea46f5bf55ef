/**
 * The browser step for real: Chromium (Debian's, driven by playwright-core) opens the authorization URL,
 * the person approves on the test authorization server's page, and the browser follows the redirect to
 * our loopback listener (RFC 8252 §7.3), which takes the code; the tokens then open a real mailbox.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MailError } from '../../shared/errors';
import { startOAuthTestServers, type OAuthTestServers } from '../../e2e/mailserver/oauth-test-servers';
import { createTestUser, putMessage } from '../../e2e/mailserver/test-users';
import { connectImap } from '../protocols/imap/connect-imap';
import { providerFromEntry, type OAuthProviderConfig } from './client-registrations';
import { beginSignIn } from './sign-in';

const CLIENT_ID = 'whereabouts-browser-test';
/** Google-style desktop client: a "secret" that is not one (RFC 8252 §8.5), checked at /token. */
const CLIENT_SECRET = 'desktop-client-secret';
let servers: OAuthTestServers;
let browser: Browser;
let provider: OAuthProviderConfig;

beforeAll(async () => {
  const [started, launched] = await Promise.all([
    startOAuthTestServers(inject('mailServer'), { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, approval: 'form' }),
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    }),
  ]);
  servers = started;
  browser = launched;
  provider = providerFromEntry('test-idp', {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    displayName: 'Test IdP',
    authorizationEndpoint: servers.authorization.authorizationEndpoint,
    tokenEndpoint: servers.authorization.tokenEndpoint,
    scopes: ['mail', 'offline_access'],
  });
});

afterAll(async () => {
  await browser?.close();
  await servers?.stop();
});

describe('signing in in the system browser', () => {
  it('Chromium follows /authorize, the person allows, the loopback listener gets the code, the token opens the mailbox', async () => {
    const user = await createTestUser(servers.mail);
    servers.authorization.addUser(user.email, user.username);
    await putMessage(
      servers.mail,
      user,
      Buffer.from('From: a@example.org\r\nSubject: Welcome\r\nMessage-ID: <w@x>\r\n\r\nHi\r\n'),
    );
    const pending = await beginSignIn({ provider, loginHint: user.email });
    const page = await browser.newPage();
    try {
      await page.goto(pending.authorizationUrl);
      await expect.poll(() => page.textContent('h1')).toContain(`Allow Whereabouts to use the mail of ${user.email}`);
      expect(await page.textContent('p')).toContain('mail offline_access');
      await page.click('button[value="allow"]');
      // The browser is now on our loopback page.
      await page.waitForURL((url) => url.origin === new URL(pending.redirectUri).origin);
      expect(await page.textContent('h1')).toBe('Signed in');
      const tokens = await pending.result;
      expect(tokens.refreshToken).not.toBeNull();

      const session = await connectImap({
        endpoint: { host: servers.mail.host, port: servers.mail.ports.imaps, security: 'tls' },
        username: user.username,
        accessToken: tokens.accessToken,
      });
      const headers: string[] = [];
      await session.fetchHeaders('INBOX', { from: 1 }, { batchSize: 10 }, (batch) => {
        for (const message of batch.messages) headers.push(message.envelope.subject ?? '');
      });
      await session.close();
      expect(headers).toEqual(['Welcome']);
    } finally {
      await page.close();
    }
  });

  it('"Deny" in the browser ends the sign-in with a sentence, and no tokens are issued', async () => {
    const user = await createTestUser(servers.mail);
    servers.authorization.addUser(user.email, user.username);
    const exchangesBefore = servers.authorization.counts.codeExchanges;
    const pending = await beginSignIn({ provider, loginHint: user.email });
    const outcome = pending.result.then(
      () => null,
      (error: unknown) => error,
    );
    const page = await browser.newPage();
    try {
      await page.goto(pending.authorizationUrl);
      await page.click('button[value="deny"]');
      await page.waitForURL((url) => url.origin === new URL(pending.redirectUri).origin);
      expect(await page.textContent('h1')).toBe('Sign-in not completed');
    } finally {
      await page.close();
    }
    const error = await outcome;
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).message).toBe('You did not allow Whereabouts to use your mail at Test IdP.');
    expect(servers.authorization.counts.codeExchanges).toBe(exchangesBefore);
  });
});
