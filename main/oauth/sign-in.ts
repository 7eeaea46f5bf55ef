/**
 * One interactive sign-in: the authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636) in the
 * system browser, with the loopback redirect of RFC 8252 §7.3. The caller opens `authorizationUrl` in
 * the system browser (Electron's shell.openExternal, or the browser-mode page) and awaits `result`.
 */
import { MailError } from '../../shared/errors';
import type { OAuthProviderConfig } from './client-registrations';
import { listenForRedirect } from './loopback-redirect';
import { createPkcePair, createState } from './pkce';
import { requestTokens, type TokenRequestOptions, type TokenSet } from './token-endpoint';

export interface SignInOptions extends TokenRequestOptions {
  provider: OAuthProviderConfig;
  /** The address the person is signing in as; providers preselect that account (OpenID Connect login_hint). */
  loginHint?: string;
  /** How long the browser step may take. */
  browserTimeoutMs?: number;
}

export interface PendingSignIn {
  authorizationUrl: string;
  redirectUri: string;
  /** The tokens, once the browser came back and the code was exchanged; rejects with a MailError. */
  result: Promise<TokenSet>;
  /** Gives up waiting (the person closed the dialog); `result` rejects. */
  cancel(): void;
}

/** The authorization request of RFC 6749 §4.1.1 with RFC 7636 §4.3's challenge. */
export function authorizationUrl(
  provider: OAuthProviderConfig,
  request: { redirectUri: string; state: string; codeChallenge: string; loginHint?: string },
): string {
  const url = new URL(provider.authorizationEndpoint);
  const parameters: Record<string, string> = {
    ...provider.authorizationParameters,
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: request.redirectUri,
    scope: provider.scopes.join(' '),
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    ...(request.loginHint ? { login_hint: request.loginHint } : {}),
  };
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.toString();
}

export async function beginSignIn(options: SignInOptions): Promise<PendingSignIn> {
  const { provider } = options;
  const pkce = createPkcePair();
  const state = createState();
  const redirect = await listenForRedirect({
    state,
    providerName: provider.displayName,
    timeoutMs: options.browserTimeoutMs,
  });
  const result = (async (): Promise<TokenSet> => {
    const code = await redirect.code;
    const tokens = await requestTokens(
      provider,
      { kind: 'authorization-code', code, redirectUri: redirect.redirectUri, codeVerifier: pkce.verifier },
      options,
    );
    if (tokens.refreshToken === null) {
      // Without a refresh token the person would have to sign in again every hour.
      throw new MailError(
        'SERVER_ERROR',
        `${provider.displayName} signed you in but gave no lasting access (no refresh token). Try again; if it keeps happening, the app's registration with ${provider.displayName} lacks offline access.`,
      );
    }
    return tokens;
  })();
  result.catch(() => undefined);
  return {
    authorizationUrl: authorizationUrl(provider, {
      redirectUri: redirect.redirectUri,
      state,
      codeChallenge: pkce.challenge,
      loginHint: options.loginHint,
    }),
    redirectUri: redirect.redirectUri,
    result,
    cancel: () => redirect.close(),
  };
}
