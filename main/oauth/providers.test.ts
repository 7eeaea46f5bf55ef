/**
 * The pure parts of signing in with OAuth: which provider an address belongs to, where client ids come
 * from, PKCE (RFC 7636) and the SASL messages (RFC 7628) — each checked against what the specifications
 * and the providers publish.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AutoconfigResult } from '../accounts/autoconfig';
import { validateAccountSettings } from '../accounts/account-settings';
import { oauthBearerMechanism, xoauth2Mechanism } from '../protocols/pop3/sasl';
import { CLIENTS_FILE_NAME, loadOAuthConfiguration } from './client-registrations';
import { codeChallenge, createPkcePair } from './pkce';
import { presetFor, presetForEmail, PROVIDER_PRESETS } from './providers';
import { authorizationUrl } from './sign-in';

function discovered(imapHost: string): AutoconfigResult {
  const server = {
    protocol: 'imap' as const,
    host: imapHost,
    port: 993,
    security: 'tls' as const,
    username: null,
    authentication: ['OAuth2'],
    source: 'test',
  };
  return { email: 'x@corp.example', displayName: null, imap: [server], pop3: [], smtp: [], reasons: [] };
}

describe('provider presets', () => {
  it('chooses the provider from the address: servers, modes and the way to sign in', () => {
    const gmail = presetForEmail('Someone@GMail.com');
    expect(gmail?.imap).toEqual({ host: 'imap.gmail.com', port: 993, security: 'tls' });
    expect(gmail?.pop3).toEqual({ host: 'pop.gmail.com', port: 995, security: 'tls' });
    expect(gmail?.modes).toEqual(['imap', 'pop3']);
    expect(gmail?.signIn.kind === 'oauth2' && gmail.signIn.issuer.id).toBe('google');

    expect(presetForEmail('a@hotmail.com')?.signIn).toMatchObject({ kind: 'oauth2', issuer: { id: 'microsoft' } });
    expect(presetForEmail('a@ymail.com')?.id).toBe('yahoo');
    expect(presetForEmail('a@aol.com')?.id).toBe('aol');
    expect(presetForEmail('a@fastmail.com')?.id).toBe('fastmail');

    // iCloud has no POP3 and no OAuth for mail: IMAP only, with an app-specific password.
    const icloud = presetForEmail('a@me.com');
    expect(icloud?.modes).toEqual(['imap']);
    expect(icloud?.pop3).toBeNull();
    expect(icloud?.signIn.kind).toBe('app-password');

    expect(presetForEmail('someone@example.org')).toBeNull();
  });

  it('recognises a company domain hosted by Microsoft 365 or Google from the servers autoconfig found', () => {
    expect(presetFor('boss@corp.example', discovered('outlook.office365.com'))?.id).toBe('microsoft365');
    expect(presetFor('boss@corp.example', discovered('imap.gmail.com'))?.id).toBe('gmail');
    // A look-alike host name is not the provider.
    expect(presetFor('boss@corp.example', discovered('imap.gmail.com.evil.example'))).toBeNull();
    expect(presetFor('boss@corp.example', discovered('mail.corp.example'))).toBeNull();
  });

  it('asks every OAuth provider for a refresh token and for IMAP, POP3 and SMTP at once', () => {
    for (const preset of PROVIDER_PRESETS) {
      if (preset.signIn.kind !== 'oauth2') continue;
      const { issuer } = preset.signIn;
      expect(issuer.authorizationEndpoint).toMatch(/^https:\/\//);
      expect(issuer.tokenEndpoint).toMatch(/^https:\/\//);
      if (issuer.id === 'microsoft') {
        expect(issuer.scopes).toEqual(
          expect.arrayContaining(['offline_access', 'https://outlook.office.com/POP.AccessAsUser.All']),
        );
      }
      if (issuer.id === 'google') expect(issuer.authorizationParameters).toMatchObject({ access_type: 'offline' });
    }
  });

  it('keeps the sign-in method in the account settings and refuses a malformed one', () => {
    const base = {
      name: 'Work',
      email: 'me@gmail.com',
      mode: 'imap',
      username: 'me@gmail.com',
      imap: { host: 'imap.gmail.com', port: 993, security: 'tls' },
      pop3: null,
      smtp: null,
      checkIntervalMinutes: 5,
    };
    expect(validateAccountSettings({ ...base, auth: { kind: 'oauth2', provider: 'google' } }).auth).toEqual({
      kind: 'oauth2',
      provider: 'google',
    });
    expect(validateAccountSettings(base).auth).toBeUndefined();
    expect(() => validateAccountSettings({ ...base, auth: { kind: 'oauth2', provider: 'Google Inc' } })).toThrow(
      /provider id/,
    );
    expect(() => validateAccountSettings({ ...base, auth: { kind: 'kerberos' } })).toThrow(/"password" or "oauth2"/);
  });
});

describe('client registrations are configuration', () => {
  it('reads oauth-clients.json and lets environment variables override it; bad entries are skipped, not fatal', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'wa-oauth-config-'));
    try {
      await writeFile(
        path.join(directory, CLIENTS_FILE_NAME),
        JSON.stringify({
          google: { clientId: 'from-file.apps.googleusercontent.com', clientSecret: 'file-secret' },
          'corp-idp': {
            clientId: 'corp-client',
            displayName: 'Corp',
            authorizationEndpoint: 'https://login.corp.example/authorize',
            tokenEndpoint: 'https://login.corp.example/token',
            scopes: ['mail'],
          },
          insecure: {
            clientId: 'x',
            authorizationEndpoint: 'http://login.insecure.example/authorize',
            tokenEndpoint: 'http://login.insecure.example/token',
            scopes: ['mail'],
          },
        }),
      );
      const { configuration, problems } = await loadOAuthConfiguration({
        directories: [directory],
        environment: {
          WHEREABOUTS_OAUTH_MICROSOFT_CLIENT_ID: 'env-microsoft',
          WHEREABOUTS_OAUTH_GOOGLE_CLIENT_ID: 'env-google',
        },
      });
      expect(configuration.provider('google')).toMatchObject({
        clientId: 'env-google',
        clientSecret: 'file-secret',
        tokenEndpoint: 'https://oauth2.googleapis.com/token',
      });
      expect(configuration.provider('microsoft')).toMatchObject({ clientId: 'env-microsoft', clientSecret: null });
      expect(configuration.provider('corp-idp')?.tokenEndpoint).toBe('https://login.corp.example/token');
      // Plain HTTP endpoints would carry codes and tokens in clear (RFC 6749 §3.1, §3.2).
      expect(configuration.provider('insecure')).toBeNull();
      expect(problems.join('\n')).toMatch(/insecure.*https/);
      expect(configuration.provider('yahoo')).toBeNull();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('PKCE and the authorization request', () => {
  it('computes the S256 challenge of RFC 7636 Appendix B', () => {
    expect(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    const pair = createPkcePair();
    expect(pair.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createPkcePair().verifier).not.toBe(pair.verifier);
  });

  it('sends the challenge, never the verifier, and the provider-specific parameters', () => {
    const pair = createPkcePair();
    const url = new URL(
      authorizationUrl(
        {
          id: 'google',
          displayName: 'Google',
          authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
          tokenEndpoint: 'https://oauth2.googleapis.com/token',
          scopes: ['https://mail.google.com/'],
          authorizationParameters: { access_type: 'offline', prompt: 'consent' },
          clientId: 'client-1',
          clientSecret: 'not-in-the-url',
        },
        { redirectUri: 'http://127.0.0.1:5000/', state: 'st', codeChallenge: pair.challenge, loginHint: 'a@gmail.com' },
      ),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      access_type: 'offline',
      prompt: 'consent',
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: 'http://127.0.0.1:5000/',
      scope: 'https://mail.google.com/',
      state: 'st',
      code_challenge: pair.challenge,
      code_challenge_method: 'S256',
      login_hint: 'a@gmail.com',
    });
    expect(url.toString()).not.toContain(pair.verifier);
    expect(url.toString()).not.toContain('not-in-the-url');
  });
});

describe('SASL bearer-token messages', () => {
  it('builds OAUTHBEARER as in RFC 7628 §4.1 and answers a refusal with ^A (§3.2.3)', async () => {
    const mechanism = oauthBearerMechanism('user@example.com', 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==', {
      host: 'server.example.com',
      port: 143,
    });
    const initial = Buffer.from((await mechanism.initialResponse()) ?? '', 'base64').toString('utf8');
    expect(initial).toBe(
      'n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01',
    );
    expect(Buffer.from(await mechanism.respond('eyJzdGF0dXMiOiI0MDEifQ=='), 'base64').toString()).toBe('\x01');
    // RFC 5801 §5.1: "," and "=" in the name are escaped.
    const escaped = oauthBearerMechanism('a,b=c', 't', { host: 'h', port: 1 });
    const escapedText = Buffer.from((await escaped.initialResponse()) ?? '', 'base64').toString();
    expect(escapedText.startsWith('n,a=a=2Cb=3Dc,\x01')).toBe(true);
  });

  it('builds XOAUTH2 as Google documents it and answers a refusal with an empty response', async () => {
    const mechanism = xoauth2Mechanism('someuser@example.com', 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg');
    expect(await mechanism.initialResponse()).toBe(
      'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==',
    );
    expect(await mechanism.respond('e30=')).toBe('');
  });
});
