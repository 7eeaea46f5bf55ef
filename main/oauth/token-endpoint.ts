/**
 * The token endpoint (RFC 6749 §3.2): an authorization code for tokens (§4.1.3, with the PKCE verifier
 * of RFC 7636 §4.5), and a refresh token for a new access token (§6). Answers are checked where they
 * arrive; no token ever appears in an error message.
 */
import { MailError } from '../../shared/errors';
import { toMailError } from '../protocols/tls-errors';
import type { OAuthProviderConfig } from './client-registrations';

/** Generous for a slow mobile network, short enough that a dead provider is reported. */
export const TOKEN_REQUEST_TIMEOUT_MS = 30_000;
/** RFC 6749 §4.2.2 makes expires_in optional; an hour is what every provider here issues. */
const DEFAULT_LIFETIME_S = 3600;
/** Token responses are a few KiB at most. */
const MAXIMUM_RESPONSE_BYTES = 64 * 1024;
/** RFC 6750 §2.1 b64token, plus the characters providers put in opaque tokens in practice. */
const TOKEN_SYNTAX = /^[\x21-\x7e]+$/;

export interface TokenSet {
  accessToken: string;
  /** When the access token stops working, milliseconds since the epoch. */
  expiresAt: number;
  /** Absent in a refresh answer that keeps the old one (RFC 6749 §6). */
  refreshToken: string | null;
  /** The scopes granted, when the provider says (RFC 6749 §5.1). */
  scope: string | null;
}

export type TokenGrant =
  | { kind: 'authorization-code'; code: string; redirectUri: string; codeVerifier: string }
  | { kind: 'refresh-token'; refreshToken: string };

export interface TokenRequestOptions {
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

/**
 * The provider refused the grant (RFC 6749 §5.2). `error` is its code: `invalid_grant` means the
 * refresh token was revoked or has expired, so only a new sign-in helps.
 */
export class OAuthGrantError extends MailError {
  constructor(
    readonly error: string,
    message: string,
    details: MailError['details'],
  ) {
    super(error === 'invalid_grant' ? 'AUTH_FAILED' : 'SERVER_ERROR', message, details);
  }

  get signInRequired(): boolean {
    return this.error === 'invalid_grant';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function target(provider: OAuthProviderConfig): { host: string; port: number } {
  const url = new URL(provider.tokenEndpoint);
  return { host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
}

function formOf(provider: OAuthProviderConfig, grant: TokenGrant): URLSearchParams {
  const form = new URLSearchParams();
  if (grant.kind === 'authorization-code') {
    form.set('grant_type', 'authorization_code');
    form.set('code', grant.code);
    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    form.set('redirect_uri', grant.redirectUri);
    form.set('code_verifier', grant.codeVerifier);
  } else {
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', grant.refreshToken);
  }
  // A public client identifies itself in the body (RFC 6749 §2.3.1, §3.2.1).
  form.set('client_id', provider.clientId);
  if (provider.clientSecret !== null) form.set('client_secret', provider.clientSecret);
  return form;
}

async function readBody(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAXIMUM_RESPONSE_BYTES) throw new Error('the answer is too large');
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAXIMUM_RESPONSE_BYTES) throw new Error('the answer is too large');
  return bytes.toString('utf8');
}

/** Printable text from the provider, shortened, for messages people read. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300) : '';
}

function grantError(provider: OAuthProviderConfig, status: number, body: unknown): MailError {
  const details = { ...target(provider) };
  if (isRecord(body) && typeof body.error === 'string') {
    const code = shown(body.error);
    const description = shown(body.error_description);
    const serverText = description ? `${code}: ${description}` : code;
    if (code === 'invalid_grant') {
      return new OAuthGrantError(
        code,
        `${provider.displayName} no longer accepts this computer's sign-in (it was revoked or has expired). ` +
          'Sign in again in the account settings.',
        { ...details, serverText },
      );
    }
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      return new OAuthGrantError(
        code,
        `${provider.displayName} does not accept this build's client registration (${serverText}). ` +
          'Whoever packaged Whereabouts has to correct its OAuth client id.',
        { ...details, serverText },
      );
    }
    return new OAuthGrantError(code, `${provider.displayName} refused the sign-in: ${serverText}`, {
      ...details,
      serverText,
    });
  }
  return new MailError(
    'SERVER_ERROR',
    `${provider.displayName}'s sign-in service answered with HTTP ${status}; try again later.`,
    { ...details, serverText: `HTTP ${status}` },
  );
}

function readTokenSet(provider: OAuthProviderConfig, body: unknown, now: number): TokenSet {
  const malformed = (what: string): MailError =>
    new MailError('SERVER_ERROR', `${provider.displayName}'s sign-in service sent an unusable answer (${what}).`, {
      ...target(provider),
    });
  if (!isRecord(body)) throw malformed('not a JSON object');
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || !TOKEN_SYNTAX.test(accessToken)) throw malformed('no access token');
  // RFC 6749 §7.1: only bearer tokens (RFC 6750) are something SASL XOAUTH2 / OAUTHBEARER can carry.
  if (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer') {
    throw malformed(`token type ${shown(body.token_type)} instead of Bearer`);
  }
  const refreshToken = body.refresh_token;
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || !TOKEN_SYNTAX.test(refreshToken))) {
    throw malformed('a refresh token that is not text');
  }
  // Some providers send the number as a string.
  const lifetime = body.expires_in === undefined ? DEFAULT_LIFETIME_S : Number(body.expires_in);
  if (!Number.isFinite(lifetime) || lifetime <= 0) throw malformed('an invalid expires_in');
  return {
    accessToken,
    expiresAt: now + lifetime * 1000,
    refreshToken: refreshToken ?? null,
    scope: typeof body.scope === 'string' ? body.scope : null,
  };
}

/** POSTs one grant to the provider's token endpoint and returns the checked answer. Throws MailError. */
export async function requestTokens(
  provider: OAuthProviderConfig,
  grant: TokenGrant,
  options: TokenRequestOptions = {},
): Promise<TokenSet> {
  const fetchFunction = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? TOKEN_REQUEST_TIMEOUT_MS;
  const startedAt = (options.now ?? Date.now)();
  let response: Response;
  let text: string;
  try {
    response = await fetchFunction(provider.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: formOf(provider, grant).toString(),
      // A token endpoint that redirects is misconfigured; following it could send the code elsewhere.
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await readBody(response);
  } catch (error) {
    const where = target(provider);
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new MailError(
        'TIMEOUT',
        `${provider.displayName}'s sign-in service did not answer within ${Math.round(timeoutMs / 1000)} s.`,
        where,
      );
    }
    // fetch wraps the socket's error (ECONNREFUSED, ENOTFOUND, certificate codes) in `cause`.
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    throw toMailError(cause, where);
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // handled as "not JSON" below
  }
  if (!response.ok) throw grantError(provider, response.status, body);
  return readTokenSet(provider, body, startedAt);
}
