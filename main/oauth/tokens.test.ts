/**
 * The sign-in and the tokens against the local test authorization server (no mail server here; that
 * is oauth-mail.test.ts): the code flow with PKCE and the loopback redirect, renewal before expiry,
 * rotation of refresh tokens, revocation, and the refresh token encrypted at rest.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailError } from '../../shared/errors';
import type { Account } from '../../shared/model';
import {
  startAuthorizationServer,
  type TestAuthorizationServer,
} from '../../e2e/mailserver/oauth2-authorization-server';
import { secretKey } from '../accounts/secret-store';
import { openFileSecretStore, SECRETS_FILE_NAME, type FileSecretStore } from '../accounts/secrets';
import { AccessTokens, isSignInRequired } from './access-tokens';
import { createOAuthConfiguration, providerFromEntry, type OAuthProviderConfig } from './client-registrations';
import { beginSignIn } from './sign-in';

let authorization: TestAuthorizationServer;
let provider: OAuthProviderConfig;
let profileDir: string;
let secrets: FileSecretStore;

beforeAll(async () => {
  authorization = await startAuthorizationServer({ clientId: 'whereabouts-test', approval: 'auto' });
  provider = providerFromEntry('test-idp', {
    clientId: 'whereabouts-test',
    displayName: 'Test IdP',
    authorizationEndpoint: authorization.authorizationEndpoint,
    tokenEndpoint: authorization.tokenEndpoint,
    scopes: ['mail'],
  });
  profileDir = await mkdtemp(path.join(tmpdir(), 'wa-oauth-tokens-'));
  secrets = await openFileSecretStore(profileDir);
});

afterAll(async () => {
  await authorization?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

function account(id: string): Account {
  return {
    id,
    createdAt: new Date().toISOString(),
    name: id,
    email: `${id}@localhost`,
    mode: 'imap',
    username: id,
    imap: null,
    pop3: null,
    smtp: null,
    leaveOnServer: { kind: 'off' },
    offlineFolders: [],
    checkIntervalMinutes: 0,
    auth: { kind: 'oauth2', provider: 'test-idp' },
  };
}

/** What the system browser does with `auto` approval: follow the redirects to our loopback listener. */
async function followInBrowser(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<MailError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MailError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('the authorization-code flow with PKCE and a loopback redirect', () => {
  it('gets tokens once the browser comes back with the code, and the page tells the person so', async () => {
    authorization.addUser('alice@localhost', 'alice');
    const pending = await beginSignIn({ provider, loginHint: 'alice@localhost' });
    expect(pending.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const exchangesBefore = authorization.counts.codeExchanges;
    const page = await followInBrowser(pending.authorizationUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain('You can close this tab');
    const tokens = await pending.result;
    expect(tokens.accessToken.length).toBeGreaterThan(100);
    expect(tokens.refreshToken).not.toBeNull();
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    expect(authorization.counts.codeExchanges).toBe(exchangesBefore + 1);
    // The listener is gone: the code cannot be delivered a second time.
    await expect(fetch(`${pending.redirectUri}?state=x&code=y`)).rejects.toThrow();
  });

  it('ignores a redirect with a forged state and still completes with the real one', async () => {
    authorization.addUser('bob@localhost', 'bob');
    const pending = await beginSignIn({ provider, loginHint: 'bob@localhost' });
    const forged = await fetch(`${pending.redirectUri}?code=stolen&state=forged`);
    expect(forged.status).toBe(400);
    const favicon = await fetch(new URL('/favicon.ico', pending.redirectUri));
    expect(favicon.status).toBe(404);
    await followInBrowser(pending.authorizationUrl);
    expect((await pending.result).refreshToken).not.toBeNull();
  });

  it('reports a refusal in the browser, a sign-in left unfinished and a cancelled one, each in words', async () => {
    const refused = await beginSignIn({ provider, loginHint: 'alice@localhost' });
    const state = new URL(refused.authorizationUrl).searchParams.get('state');
    await fetch(`${refused.redirectUri}?error=access_denied&state=${state}`);
    const refusal = await rejection(refused.result);
    expect(refusal.code).toBe('AUTH_FAILED');
    expect(refusal.message).toMatch(/did not allow Whereabouts/);

    const slow = await beginSignIn({ provider, loginHint: 'alice@localhost', browserTimeoutMs: 200 });
    expect((await rejection(slow.result)).code).toBe('TIMEOUT');

    const cancelled = await beginSignIn({ provider, loginHint: 'alice@localhost' });
    cancelled.cancel();
    expect((await rejection(cancelled.result)).message).toMatch(/cancelled/);
  });
});

describe('access tokens', () => {
  it('keeps the refresh token encrypted at rest, renews before expiry and stores the rotated refresh token', async () => {
    authorization.addUser('carol@localhost', 'carol');
    let now = Date.now();
    const tokens = new AccessTokens({ secrets, configuration: createOAuthConfiguration([provider]), now: () => now });
    const pending = await beginSignIn({ provider, loginHint: 'carol@localhost' });
    await followInBrowser(pending.authorizationUrl);
    const signIn = await pending.result;
    const carol = account('carol');
    await tokens.storeSignIn(carol.id, signIn);

    const onDisk = await readFile(path.join(profileDir, SECRETS_FILE_NAME));
    expect(onDisk.includes(Buffer.from(signIn.refreshToken ?? ''))).toBe(false);
    expect(await secrets.get(secretKey(carol.id, 'oauth-refresh-token'))).toBe(signIn.refreshToken);

    const refreshesBefore = authorization.counts.refreshes;
    expect(await tokens.accessToken(carol)).toBe(signIn.accessToken);
    expect(authorization.counts.refreshes).toBe(refreshesBefore);

    // 58 minutes into a 60-minute token: inside the renewal margin.
    now += 58 * 60_000;
    const renewed = await tokens.accessToken(carol);
    expect(renewed).not.toBe(signIn.accessToken);
    expect(authorization.counts.refreshes).toBe(refreshesBefore + 1);
    const rotated = await secrets.get(secretKey(carol.id, 'oauth-refresh-token'));
    expect(rotated).not.toBe(signIn.refreshToken);

    // A server refused the token: one renewal, shared by every connection that saw the refusal.
    const [first, second] = await Promise.all([
      tokens.accessToken(carol, { rejectedAccessToken: renewed }),
      tokens.accessToken(carol, { rejectedAccessToken: renewed }),
    ]);
    expect(first).toBe(second);
    expect(first).not.toBe(renewed);
    expect(authorization.counts.refreshes).toBe(refreshesBefore + 2);
    // A refusal of a token that was already replaced does not renew again.
    expect(await tokens.accessToken(carol, { rejectedAccessToken: renewed })).toBe(first);
    expect(authorization.counts.refreshes).toBe(refreshesBefore + 2);
  });

  it('turns a revoked grant into "sign in again", forgets the refresh token and stops asking the provider', async () => {
    const dave = account('dave');
    const tokens = new AccessTokens({ secrets, configuration: createOAuthConfiguration([provider]) });
    await tokens.storeSignIn(dave.id, {
      accessToken: authorization.issueAccessToken('dave'),
      refreshToken: authorization.issueRefreshToken('dave'),
      expiresAt: Date.now() - 1,
      scope: null,
    });
    authorization.revokeGrant('dave');
    const refreshesBefore = authorization.counts.refreshes;
    const revoked = await rejection(tokens.accessToken(dave));
    expect(revoked.code).toBe('AUTH_FAILED');
    expect(isSignInRequired(revoked)).toBe(true);
    expect(revoked.message).toMatch(/^Sign in to Test IdP again/);
    expect(await secrets.get(secretKey(dave.id, 'oauth-refresh-token'))).toBeNull();
    const again = await rejection(tokens.accessToken(dave));
    expect(isSignInRequired(again)).toBe(true);
    expect(authorization.counts.refreshes).toBe(refreshesBefore);
  });

  it('treats an unreachable provider as offline and keeps the refresh token', async () => {
    const erin = account('erin');
    const unreachable = { ...provider, tokenEndpoint: `http://127.0.0.1:${await closedPort()}/token` };
    const tokens = new AccessTokens({ secrets, configuration: createOAuthConfiguration([unreachable]) });
    const refreshToken = authorization.issueRefreshToken('erin');
    await tokens.storeSignIn(erin.id, {
      accessToken: 'old',
      refreshToken,
      expiresAt: Date.now() - 1,
      scope: null,
    });
    const offline = await rejection(tokens.accessToken(erin));
    expect(offline.code).toBe('CONNECTION_REFUSED');
    expect(await secrets.get(secretKey(erin.id, 'oauth-refresh-token'))).toBe(refreshToken);
  });
});
