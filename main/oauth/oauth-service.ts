/**
 * The OAuth part of the service: interactive sign-ins (sign-in.ts) started from the UI, the access
 * tokens of OAuth accounts (access-tokens.ts), and the provider presets the set-up screen offers.
 *
 * A sign-in for a new account finishes before the account exists: its tokens wait here (in memory,
 * for SIGN_IN_KEEP_MS) until `addAccount` takes them with the sign-in's id. A sign-in for an existing
 * account ("sign in again") stores its refresh token at once and lets the service restart the engine.
 */
import { randomUUID } from 'node:crypto';
import type { OAuthSignInFinished, OAuthSignInRequest, OAuthSignInStarted, ProviderView } from '../../shared/api';
import { MailError, toErrorPayload } from '../../shared/errors';
import type { Account, AccountSettings } from '../../shared/model';
import type { SecretStore } from '../accounts/secret-store';
import { validateEmail } from '../accounts/account-settings';
import { requireObject, requireString, optionalString } from '../service/validate';
import { AccessTokens, type AccessTokenRequest } from './access-tokens';
import type { OAuthConfiguration } from './client-registrations';
import { credentialsFor, type Credentials } from './credentials';
import { presetForEmail } from './providers';
import { beginSignIn, type PendingSignIn } from './sign-in';
import type { TokenRequestOptions, TokenSet } from './token-endpoint';

/** How long a finished sign-in waits for the account set-up to use it. */
export const SIGN_IN_KEEP_MS = 30 * 60_000;

export type { OAuthSignInFinished, OAuthSignInRequest, OAuthSignInStarted, ProviderView } from '../../shared/api';

export interface OAuthHandlers {
  startOAuthSignIn(request: OAuthSignInRequest): Promise<OAuthSignInStarted>;
  cancelOAuthSignIn(request: { signInId: string }): Promise<void>;
  lookUpProvider(request: { email: string }): Promise<ProviderView | null>;
}

export interface OAuthServiceOptions extends TokenRequestOptions {
  secrets: SecretStore;
  configuration: OAuthConfiguration;
  /** The account as saved now (for "sign in again"). */
  account(accountId: string): Account;
  /** Called when a sign-in ends; the service turns it into an event. */
  onSignInFinished(result: OAuthSignInFinished): void;
  /** After an existing account's new sign-in was stored: restart its engine, sync. */
  onAccountSignedIn(accountId: string): Promise<void>;
  /** Opens the system browser (Electron's shell.openExternal); absent: the UI opens the URL. */
  openExternal?: (url: string) => Promise<void>;
  /** For the browser step; default sign-in.ts's. */
  signInTimeoutMs?: number;
}

interface SignInEntry {
  id: string;
  provider: string;
  email: string;
  accountId: string | null;
  pending: PendingSignIn;
  tokens: TokenSet | null;
  discardTimer: NodeJS.Timeout | null;
}

export class OAuthService {
  readonly accessTokens: AccessTokens;
  private readonly signIns = new Map<string, SignInEntry>();
  private closed = false;

  constructor(private readonly options: OAuthServiceOptions) {
    this.accessTokens = new AccessTokens(options);
  }

  /** The one credential function of the service (main/oauth/credentials.ts). */
  credentialsFor(account: Account, request?: AccessTokenRequest): Promise<Credentials> {
    return credentialsFor(account, this.options.secrets, this.accessTokens, request);
  }

  readonly handlers: OAuthHandlers = {
    startOAuthSignIn: (request) => this.start(request),
    cancelOAuthSignIn: async (request) => {
      const signInId = requireString(requireObject(request), 'signInId');
      this.discard(signInId);
    },
    lookUpProvider: async (request) => {
      const email = validateEmail(requireObject(request).email);
      const preset = presetForEmail(email);
      if (!preset) return null;
      const signIn: ProviderView['signIn'] =
        preset.signIn.kind === 'oauth2'
          ? {
              kind: 'oauth2',
              provider: preset.signIn.issuer.id,
              displayName: preset.signIn.issuer.displayName,
              available: this.options.configuration.provider(preset.signIn.issuer.id) !== null,
            }
          : { kind: 'app-password', helpUrl: preset.signIn.helpUrl };
      return {
        id: preset.id,
        displayName: preset.displayName,
        modes: [...preset.modes],
        imap: preset.imap,
        pop3: preset.pop3,
        smtp: preset.smtp,
        username: email,
        signIn,
      };
    },
  };

  private async start(request: unknown): Promise<OAuthSignInStarted> {
    if (this.closed) throw new MailError('INTERNAL', 'Whereabouts is shutting down.');
    const body = requireObject(request);
    const email = validateEmail(body.email);
    const providerId = requireString(body, 'provider', { maxLength: 40 });
    const accountId = optionalString(body, 'accountId');
    if (accountId !== null) {
      const account = this.options.account(accountId);
      if (account.auth?.kind !== 'oauth2' || account.auth.provider !== providerId) {
        throw new MailError('INVALID_INPUT', `The account "${account.name}" does not sign in with ${providerId}.`);
      }
    }
    const provider = this.options.configuration.provider(providerId);
    if (!provider) {
      throw new MailError(
        'INVALID_INPUT',
        `This copy of Whereabouts cannot sign in with "${providerId}": it has no client registration for it (main/oauth/README.md).`,
      );
    }
    const pending = await beginSignIn({
      provider,
      loginHint: email,
      browserTimeoutMs: this.options.signInTimeoutMs,
      fetch: this.options.fetch,
      now: this.options.now,
      timeoutMs: this.options.timeoutMs,
    });
    const entry: SignInEntry = {
      id: randomUUID(),
      provider: providerId,
      email,
      accountId,
      pending,
      tokens: null,
      discardTimer: null,
    };
    this.signIns.set(entry.id, entry);
    void this.finish(entry);
    let browserOpened = false;
    if (this.options.openExternal) {
      try {
        await this.options.openExternal(pending.authorizationUrl);
        browserOpened = true;
      } catch {
        // The UI shows the link to open by hand.
      }
    }
    return { signInId: entry.id, authorizationUrl: pending.authorizationUrl, browserOpened };
  }

  private async finish(entry: SignInEntry): Promise<void> {
    let outcome: OAuthSignInFinished;
    try {
      const tokens = await entry.pending.result;
      if (entry.accountId !== null) {
        await this.accessTokens.storeSignIn(entry.accountId, tokens);
        this.signIns.delete(entry.id);
        await this.options.onAccountSignedIn(entry.accountId);
      } else {
        entry.tokens = tokens;
        entry.discardTimer = setTimeout(() => this.discard(entry.id), SIGN_IN_KEEP_MS);
        entry.discardTimer.unref();
      }
      outcome = {
        signInId: entry.id,
        ok: true,
        email: entry.email,
        provider: entry.provider,
        accountId: entry.accountId,
      };
    } catch (error) {
      this.signIns.delete(entry.id);
      outcome = { signInId: entry.id, ok: false, error: toErrorPayload(error), accountId: entry.accountId };
    }
    if (!this.closed) this.options.onSignInFinished(outcome);
  }

  private discard(signInId: string): void {
    const entry = this.signIns.get(signInId);
    if (!entry) return;
    this.signIns.delete(signInId);
    if (entry.discardTimer) clearTimeout(entry.discardTimer);
    entry.pending.cancel();
  }

  /** The finished sign-in for a new account with these settings; MailError when there is none. */
  private finishedSignIn(signInId: string, settings: AccountSettings): SignInEntry & { tokens: TokenSet } {
    const entry = this.signIns.get(signInId);
    if (!entry || entry.accountId !== null) {
      throw new MailError('INVALID_INPUT', 'This sign-in is unknown or has expired. Sign in again.');
    }
    if (entry.tokens === null) throw new MailError('INVALID_INPUT', 'The sign-in in the browser is not finished yet.');
    if (settings.auth?.kind !== 'oauth2' || settings.auth.provider !== entry.provider) {
      throw new MailError('INVALID_INPUT', `The account must sign in with ${entry.provider}, as the sign-in did.`);
    }
    return entry as SignInEntry & { tokens: TokenSet };
  }

  /** The access token of a finished sign-in, for the connection test before the account exists. */
  credentialsOfSignIn(signInId: string, settings: AccountSettings): Credentials {
    return { accessToken: this.finishedSignIn(signInId, settings).tokens.accessToken };
  }

  /** Stores a finished sign-in's tokens for the account just created from it (used once). */
  async adoptSignIn(signInId: string, account: Account): Promise<void> {
    const entry = this.finishedSignIn(signInId, account);
    await this.accessTokens.storeSignIn(account.id, entry.tokens);
    this.signIns.delete(signInId);
    if (entry.discardTimer) clearTimeout(entry.discardTimer);
  }

  /** Checks a new account's sign-in before anything is saved, so a bad request leaves no account behind. */
  assertSignInReady(signInId: string, settings: AccountSettings): void {
    this.finishedSignIn(signInId, settings);
  }

  async forgetAccount(accountId: string): Promise<void> {
    await this.accessTokens.forget(accountId);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.signIns.keys()]) this.discard(id);
  }
}
