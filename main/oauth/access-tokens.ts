/**
 * Access tokens for OAuth accounts: kept in memory only (they live an hour), renewed with the refresh
 * token before they expire and again when a server refuses one, and the refresh token kept like a
 * password — encrypted at rest in the SecretStore under its 'oauth-refresh-token' kind.
 *
 * When the provider answers `invalid_grant` (the person revoked access, changed their password, or
 * the refresh token expired) the stored refresh token is useless: it is removed, and every later
 * request fails at once with AUTH_FAILED "sign in again" instead of asking the provider each time.
 */
import { MailError } from '../../shared/errors';
import type { Account } from '../../shared/model';
import { secretKey, type SecretStore } from '../accounts/secret-store';
import type { OAuthConfiguration, OAuthProviderConfig } from './client-registrations';
import { OAuthGrantError, requestTokens, type TokenRequestOptions, type TokenSet } from './token-endpoint';

/** Renew this long before the provider's expiry, so a token never runs out during a login. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** …but never more than this share of a short lifetime (a provider handing out 2-minute tokens). */
const REFRESH_MARGIN_SHARE = 0.25;

/** `serverText` of the "sign in again" error, so the UI can tell it from a wrong password. */
export const SIGN_IN_REQUIRED = 'sign-in-required';

export interface AccessTokenRequest {
  /** The access token a server just refused: get a new one unless another caller already did. */
  rejectedAccessToken?: string;
}

export interface AccessTokensOptions extends TokenRequestOptions {
  secrets: SecretStore;
  configuration: OAuthConfiguration;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
  /** When to renew: before expiry by the margin. */
  renewAt: number;
}

export function signInRequired(providerName: string | null, reason: string): MailError {
  return new MailError(
    'AUTH_FAILED',
    `Sign in${providerName ? ` to ${providerName}` : ''} again: ${reason}. Open the account's settings and choose "Sign in".`,
    { serverText: SIGN_IN_REQUIRED },
  );
}

export function isSignInRequired(error: unknown): boolean {
  return error instanceof MailError && error.code === 'AUTH_FAILED' && error.details.serverText === SIGN_IN_REQUIRED;
}

export class AccessTokens {
  private readonly cache = new Map<string, CachedToken>();
  private readonly renewing = new Map<string, Promise<CachedToken>>();
  private readonly now: () => number;

  constructor(private readonly options: AccessTokensOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The provider configuration of an OAuth account; MailError when this build cannot serve it. */
  providerOf(account: Pick<Account, 'auth' | 'name'>): OAuthProviderConfig {
    if (account.auth?.kind !== 'oauth2') {
      throw new MailError('INVALID_INPUT', `The account "${account.name}" does not sign in with OAuth.`);
    }
    const provider = this.options.configuration.provider(account.auth.provider);
    if (!provider) {
      throw new MailError(
        'INTERNAL',
        `This copy of Whereabouts has no OAuth client registration for "${account.auth.provider}", so it cannot sign in there. ` +
          'Whoever packaged it can add one (main/oauth/README.md).',
      );
    }
    return provider;
  }

  /** Keeps a fresh sign-in: the refresh token in the secret store, the access token in memory. */
  async storeSignIn(accountId: string, tokens: TokenSet): Promise<void> {
    if (tokens.refreshToken === null) throw new MailError('INVALID_INPUT', 'A sign-in without a refresh token.');
    await this.options.secrets.set(secretKey(accountId, 'oauth-refresh-token'), tokens.refreshToken);
    this.cache.set(accountId, this.cached(tokens));
  }

  /** Forgets everything of an account (it was removed). */
  async forget(accountId: string): Promise<void> {
    this.cache.delete(accountId);
    await this.options.secrets.delete(secretKey(accountId, 'oauth-refresh-token'));
  }

  /** A usable access token for the account, renewed when it is due or was just refused. */
  async accessToken(account: Pick<Account, 'id' | 'auth' | 'name'>, request: AccessTokenRequest = {}): Promise<string> {
    const cached = this.cache.get(account.id);
    const refused = request.rejectedAccessToken !== undefined && cached?.accessToken === request.rejectedAccessToken;
    if (cached && !refused && this.now() < cached.renewAt) return cached.accessToken;
    // One renewal at a time per account: connections failing together share it.
    let renewal = this.renewing.get(account.id);
    if (!renewal) {
      renewal = this.renew(account).finally(() => this.renewing.delete(account.id));
      this.renewing.set(account.id, renewal);
    }
    return (await renewal).accessToken;
  }

  private cached(tokens: TokenSet): CachedToken {
    const lifetime = Math.max(0, tokens.expiresAt - this.now());
    const margin = Math.min(REFRESH_MARGIN_MS, lifetime * REFRESH_MARGIN_SHARE);
    return { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, renewAt: tokens.expiresAt - margin };
  }

  private async renew(account: Pick<Account, 'id' | 'auth' | 'name'>): Promise<CachedToken> {
    const provider = this.providerOf(account);
    const key = secretKey(account.id, 'oauth-refresh-token');
    const refreshToken = await this.options.secrets.get(key);
    if (refreshToken === null) {
      this.cache.delete(account.id);
      throw signInRequired(provider.displayName, 'this computer holds no sign-in for this account');
    }
    let tokens: TokenSet;
    try {
      tokens = await requestTokens(provider, { kind: 'refresh-token', refreshToken }, this.options);
    } catch (error) {
      if (error instanceof OAuthGrantError && error.signInRequired) {
        this.cache.delete(account.id);
        // Only if no new sign-in replaced it meanwhile.
        if ((await this.options.secrets.get(key)) === refreshToken) await this.options.secrets.delete(key);
        throw signInRequired(provider.displayName, `${provider.displayName} revoked or expired the sign-in`);
      }
      throw error;
    }
    // RFC 6749 §6: a new refresh token replaces the old one, which the provider may now refuse.
    if (tokens.refreshToken !== null && tokens.refreshToken !== refreshToken) {
      await this.options.secrets.set(key, tokens.refreshToken);
    }
    const cached = this.cached(tokens);
    this.cache.set(account.id, cached);
    return cached;
  }
}
