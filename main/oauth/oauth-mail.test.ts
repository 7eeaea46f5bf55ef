/**
 * OAuth 2.0 against real servers: a Dovecot whose oauth2 passdb checks every bearer token at the local
 * test authorization server (RFC 7662 introspection), and a Postfix authenticating submission through
 * that Dovecot. IMAP (OAUTHBEARER), POP3 (OAUTHBEARER and XOAUTH2) and SMTP (XOAUTH2) must accept a
 * live token and refuse a wrong, a foreign, an expired and a revoked one; the service's engines and
 * outbox must log in with tokens, renew them, and say "sign in again" once the grant is revoked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MailError } from '../../shared/errors';
import type { AccountSettings, FolderView } from '../../shared/model';
import { startOAuthTestServers, type OAuthTestServers } from '../../e2e/mailserver/oauth-test-servers';
import { createTestUser, putMessage, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { connectImap } from '../protocols/imap/connect-imap';
import { openPop3Mailbox } from '../protocols/pop3/pop3-mailbox';
import { xoauth2Mechanism } from '../protocols/pop3/sasl';
import { sendMessage, verifySmtp } from '../protocols/smtp/smtp-client';
import type { TranscriptEntry } from '../protocols/smtp/smtp-socket';
import { createMailService, type MailService } from '../service/create-service';
import { createOAuthConfiguration, providerFromEntry } from './client-registrations';
import type { OAuthSignInFinished } from './oauth-service';

const mainServers = inject('mailServer');
const CLIENT_ID = 'whereabouts-mail-test';
let servers: OAuthTestServers;

beforeAll(async () => {
  servers = await startOAuthTestServers(mainServers, { clientId: CLIENT_ID, approval: 'auto' });
});

afterAll(async () => {
  await servers?.stop();
});

async function oauthUser(): Promise<TestUser> {
  const user = await createTestUser(servers.mail);
  servers.authorization.addUser(user.email, user.username);
  return user;
}

function message(subject: string): Buffer {
  return Buffer.from(
    `From: Ada <ada@example.org>\r\nTo: you@example.org\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@test.example>\r\n` +
      `Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n${subject} body\r\n`,
  );
}

async function failure(promise: Promise<unknown>): Promise<MailError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MailError) return error;
    throw error;
  }
  throw new Error('expected the login to be refused');
}

async function waitForDelivery(user: TestUser, count: number): Promise<Buffer[]> {
  let delivered: Buffer[] = [];
  for (let attempt = 0; attempt < 100 && delivered.length < count; attempt += 1) {
    delivered = await readServerMessages(servers.mail, user);
    if (delivered.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return delivered;
}

/** Logs in with `token` over IMAP, POP3 and SMTP; each entry is null (accepted) or the refusal. */
async function tryEverywhere(user: TestUser, token: string): Promise<Array<MailError | null>> {
  const { host, ports } = servers.mail;
  const attempt = async (login: () => Promise<void>): Promise<MailError | null> => {
    try {
      await login();
      return null;
    } catch (error) {
      if (error instanceof MailError) return error;
      throw error;
    }
  };
  return Promise.all([
    attempt(async () => {
      const session = await connectImap({
        endpoint: { host, port: ports.imaps, security: 'tls' },
        username: user.username,
        accessToken: token,
      });
      await session.close();
    }),
    attempt(async () => {
      const mailbox = await openPop3Mailbox({
        host,
        port: ports.pop3s,
        security: 'tls',
        username: user.username,
        accessToken: token,
      });
      await mailbox.quit();
    }),
    attempt(() =>
      verifySmtp(
        { host, port: ports.submission, security: 'starttls' },
        { username: user.username, accessToken: token },
      ),
    ),
  ]);
}

describe('bearer tokens at the mail servers', () => {
  it('IMAP, POP3 and SMTP accept a live token: OAUTHBEARER and XOAUTH2, mail read and sent', async () => {
    const user = await oauthUser();
    await putMessage(servers.mail, user, message('Waiting'));
    const token = servers.authorization.issueAccessToken(user.username);
    const { host, ports } = servers.mail;

    const session = await connectImap({
      endpoint: { host, port: ports.imap, security: 'starttls' },
      username: user.username,
      accessToken: token,
    });
    const folders = await session.listFolders();
    expect(folders.map((folder) => folder.path)).toContain('INBOX');
    await session.close();

    // Dovecot lists OAUTHBEARER, so that is what our POP3 client picks (RFC 7628).
    const pop = await openPop3Mailbox({
      host,
      port: ports.pop3,
      security: 'starttls',
      username: user.username,
      accessToken: token,
    });
    expect((await pop.uidl()).length).toBe(1);
    await pop.quit();
    // XOAUTH2, as Gmail and Outlook speak it, through the same SASL hook; the token is long enough that
    // the initial response follows the server's "+ " (RFC 5034 §4, the 255-octet line limit).
    const popXoauth2 = await openPop3Mailbox({
      host,
      port: ports.pop3s,
      security: 'tls',
      username: user.username,
      saslMechanism: xoauth2Mechanism(user.username, token),
    });
    expect((await popXoauth2.retrieve(1)).toString()).toContain('Subject: Waiting');
    await popXoauth2.quit();

    const transcript: TranscriptEntry[] = [];
    const sent = await sendMessage(
      { endpoint: { host, port: ports.submissions, security: 'tls' }, username: user.username, accessToken: token },
      {
        from: { name: 'Me', address: user.email },
        to: [{ name: 'Me', address: user.email }],
        subject: 'By token',
        text: 'Sent with XOAUTH2.',
      },
      { transcript: (entry) => transcript.push(entry) },
    );
    expect(sent.accepted).toEqual([user.email]);
    expect(transcript.some((entry) => entry.line === 'AUTH XOAUTH2 ***')).toBe(true);
    expect(transcript.some((entry) => entry.line.includes(token))).toBe(false);
    const delivered = await waitForDelivery(user, 2);
    expect(delivered.map((raw) => raw.toString()).join('\n')).toContain('Subject: By token');
  });

  it('refuses a wrong token, another user’s token, an expired one and a revoked one, over all three', async () => {
    const user = await oauthUser();
    const other = await oauthUser();
    const expired = servers.authorization.issueAccessToken(user.username, 1);
    const revoked = servers.authorization.issueAccessToken(user.username);
    servers.authorization.revokeAccessTokens(user.username);
    const live = servers.authorization.issueAccessToken(user.username);
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const refusals = await Promise.all([
      tryEverywhere(user, 'x'.repeat(220)),
      tryEverywhere(user, servers.authorization.issueAccessToken(other.username)),
      tryEverywhere(user, expired),
      tryEverywhere(user, revoked),
    ]);
    for (const row of refusals) {
      expect(row.map((error) => error?.code)).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED']);
    }
    // The POP3 client says what was refused.
    expect(refusals[0][1]?.message).toMatch(/did not accept the sign-in token/);
    // …and the server still takes the live token of the same user.
    expect(await tryEverywhere(user, live)).toEqual([null, null, null]);
  });
});

describe('OAuth accounts in the service', () => {
  let service: MailService;
  let profileDir: string;
  const finished = new Map<string, OAuthSignInFinished>();

  beforeAll(async () => {
    profileDir = await mkdtemp(path.join(tmpdir(), 'wa-oauth-service-'));
    const provider = providerFromEntry('test-idp', {
      clientId: CLIENT_ID,
      displayName: 'Test IdP',
      authorizationEndpoint: servers.authorization.authorizationEndpoint,
      tokenEndpoint: servers.authorization.tokenEndpoint,
      scopes: ['mail'],
    });
    service = await createMailService({
      profileDir,
      shell: 'cli',
      oauth: createOAuthConfiguration([provider]),
      // The "system browser": the test server approves at once and redirects to our loopback listener.
      openExternal: async (url) => {
        await (await fetch(url)).text();
      },
      onOAuthSignInFinished: (result) => finished.set(result.signInId, result),
    });
  });

  afterAll(async () => {
    await service?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  function settingsFor(user: TestUser, mode: 'imap' | 'pop3'): AccountSettings {
    const { host, ports } = servers.mail;
    return {
      name: `${mode} ${user.username}`,
      email: user.email,
      mode,
      username: user.username,
      imap: { host, port: ports.imaps, security: 'tls' },
      pop3: { host, port: ports.pop3s, security: 'tls' },
      smtp: { host, port: ports.submission, security: 'starttls' },
      leaveOnServer: { kind: 'forever' },
      offlineFolders: ['INBOX'],
      checkIntervalMinutes: 0,
      auth: { kind: 'oauth2', provider: 'test-idp' },
    };
  }

  async function signIn(user: TestUser, accountId: string | null = null): Promise<string> {
    const started = await service.internals.oauth.handlers.startOAuthSignIn({
      email: user.email,
      provider: 'test-idp',
      accountId,
    });
    expect(started.browserOpened).toBe(true);
    expect(new URL(started.authorizationUrl).searchParams.get('code_challenge_method')).toBe('S256');
    for (let attempt = 0; attempt < 100 && !finished.has(started.signInId); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(finished.get(started.signInId)).toMatchObject({ ok: true, email: user.email, accountId });
    return started.signInId;
  }

  async function inboxSubjects(accountId: string, kind: FolderView['kind']): Promise<string[]> {
    const inbox = (await service.api.listFolders({ accountId })).find(
      (folder) => folder.role === 'inbox' && folder.kind === kind,
    );
    if (!inbox) return [];
    const page = await service.api.listMessages({ folderId: inbox.id, offset: 0, limit: 100 });
    return page.items.map((item) => item.subject).sort();
  }

  it('an IMAP account signs in in the browser, syncs and sends with tokens; a refused token is renewed', async () => {
    const user = await oauthUser();
    await putMessage(servers.mail, user, message('Hello IMAP'));
    const signInId = await signIn(user);
    const settings = settingsFor(user, 'imap');
    const tested = await service.api.testConnection({ settings, password: '', signInId } as Parameters<
      MailService['api']['testConnection']
    >[0]);
    expect(tested).toEqual({ incoming: { ok: true }, smtp: { ok: true } });
    const account = await service.api.addAccount({ settings, password: '', signInId } as Parameters<
      MailService['api']['addAccount']
    >[0]);
    expect(account.auth).toEqual({ kind: 'oauth2', provider: 'test-idp' });
    expect(account.signInRequired).toBe(false);
    await service.api.syncAccount({ accountId: account.id });
    expect(await inboxSubjects(account.id, 'server')).toEqual(['Hello IMAP']);

    // The server stops taking the current access token (as when a provider ends it early): the outbox's
    // login is refused once, the token renewed with the refresh token, and the message goes out.
    servers.authorization.revokeAccessTokens(user.username);
    const refreshesBefore = servers.authorization.counts.refreshes;
    await service.api.sendMessage({
      accountId: account.id,
      to: [{ name: 'Me', address: user.email }],
      cc: [],
      bcc: [],
      subject: 'Sent by token',
      text: 'via XOAUTH2',
    });
    await service.internals.outbox.flush(account.id);
    const [entry] = await service.api.listOutbox({ accountId: account.id });
    expect(entry.state).toBe('sent');
    expect(servers.authorization.counts.refreshes).toBe(refreshesBefore + 1);
    const delivered = await waitForDelivery(user, 2);
    expect(delivered.map((raw) => raw.toString()).join('\n')).toContain('Subject: Sent by token');
  });

  it('a POP3 account downloads with tokens; after revocation it says "sign in again" until the person does', async () => {
    const user = await oauthUser();
    await putMessage(servers.mail, user, message('Hello POP3'));
    const account = await service.api.addAccount({
      settings: settingsFor(user, 'pop3'),
      password: '',
      signInId: await signIn(user),
    } as Parameters<MailService['api']['addAccount']>[0]);
    await service.api.syncAccount({ accountId: account.id });
    expect(await inboxSubjects(account.id, 'local')).toEqual(['Hello POP3']);

    // Every POP3 pass is a new login: a refused access token is renewed within the same pass.
    servers.authorization.revokeAccessTokens(user.username);
    await putMessage(servers.mail, user, message('Second'));
    const refreshesBefore = servers.authorization.counts.refreshes;
    await service.api.syncAccount({ accountId: account.id });
    expect(await inboxSubjects(account.id, 'local')).toEqual(['Hello POP3', 'Second']);
    expect(servers.authorization.counts.refreshes).toBe(refreshesBefore + 1);

    // The person revokes Whereabouts' access at the provider.
    servers.authorization.revokeGrant(user.username);
    servers.authorization.revokeAccessTokens(user.username);
    await putMessage(servers.mail, user, message('Third'));
    const error = await failure(service.api.syncAccount({ accountId: account.id }));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toMatch(/^Sign in to Test IdP again/);
    const view = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(view?.signInRequired).toBe(true);
    expect(view?.connectivity).toBe('error');
    // Nothing local was touched.
    expect(await inboxSubjects(account.id, 'local')).toEqual(['Hello POP3', 'Second']);

    // "Sign in again" from the account's settings: the new tokens replace the old, mail flows again.
    await signIn(user, account.id);
    await service.api.syncAccount({ accountId: account.id });
    expect(await inboxSubjects(account.id, 'local')).toEqual(['Hello POP3', 'Second', 'Third']);
    const after = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(after?.signInRequired).toBe(false);
  });

  it('refuses to add an OAuth account without a finished sign-in, and leaves no account behind', async () => {
    const user = await oauthUser();
    const before = (await service.api.listAccounts()).length;
    const error = await failure(
      service.api.addAccount({ settings: settingsFor(user, 'imap'), password: '', signInId: 'nope' } as Parameters<
        MailService['api']['addAccount']
      >[0]),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect((await service.api.listAccounts()).length).toBe(before);
  });
});
