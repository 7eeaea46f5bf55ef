/**
 * The one place that decides how an account logs in: a password from the secret store, or an OAuth
 * access token (SASL XOAUTH2 / OAUTHBEARER, RFC 7628) from AccessTokens. Every connection — the IMAP
 * and POP3 engines, the outbox, the connection test — goes through `withCredentials`, so a refused
 * token is renewed and the login tried once more in the same way everywhere.
 */
import { MailError } from '../../shared/errors';
import type { Account } from '../../shared/model';
import { secretKey, type SecretStore } from '../accounts/secret-store';
import { isSignInRequired, signInRequired, type AccessTokenRequest, type AccessTokens } from './access-tokens';

export type Credentials = { password: string } | { accessToken: string };

/** Gives the credentials to log in with; `request` says which access token was just refused. */
export type CredentialSource = (request?: AccessTokenRequest) => Promise<Credentials>;

export async function credentialsFor(
  account: Pick<Account, 'id' | 'auth' | 'name'>,
  secrets: SecretStore,
  tokens: AccessTokens,
  request: AccessTokenRequest = {},
): Promise<Credentials> {
  if (account.auth?.kind === 'oauth2') return { accessToken: await tokens.accessToken(account, request) };
  const password = await secrets.get(secretKey(account.id, 'password'));
  if (password === null) {
    throw new MailError('AUTH_FAILED', 'No password is saved for this account. Enter it again in its settings.');
  }
  return { password };
}

/** The credential source of something that offers `credentials()` or, older, only `password()`. */
export function credentialSourceOf(context: {
  password(): Promise<string>;
  credentials?: CredentialSource;
}): CredentialSource {
  if (context.credentials) return (request) => (context.credentials as CredentialSource).call(context, request);
  return async () => ({ password: await context.password() });
}

/**
 * Runs `login` with the account's credentials. When a server refuses an access token (it expired
 * early, or was revoked while the refresh token still works) the token is renewed and `login` runs
 * once more; a password is never retried (that would only lock the account sooner).
 */
export async function withCredentials<T>(
  source: CredentialSource,
  login: (credentials: Credentials) => Promise<T>,
): Promise<T> {
  const credentials = await source();
  try {
    return await login(credentials);
  } catch (error) {
    if (!('accessToken' in credentials) || !(error instanceof MailError) || error.code !== 'AUTH_FAILED') throw error;
    if (isSignInRequired(error)) throw error;
    const renewed = await source({ rejectedAccessToken: credentials.accessToken });
    try {
      return await login(renewed);
    } catch (retryError) {
      if (retryError instanceof MailError && retryError.code === 'AUTH_FAILED' && !isSignInRequired(retryError)) {
        // A token just issued and still refused: the grant no longer covers this mailbox.
        const refusal = signInRequired(null, 'the mail server refused a newly issued sign-in token');
        throw new MailError(refusal.code, refusal.message, { ...retryError.details, ...refusal.details });
      }
      throw retryError;
    }
  }
}
