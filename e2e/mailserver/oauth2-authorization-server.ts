/**
 * A small OAuth 2.0 authorization server for the tests, on node:http and 127.0.0.1: the part of Google
 * or Microsoft that a mail client and a mail server talk to, with switches the real ones do not offer.
 *
 * - GET /authorize (RFC 6749 §4.1.1, RFC 7636 §4.3): a page with "Allow" and "Deny" for the user named
 *   by login_hint (or, with `approval: 'auto'`, a redirect at once); then a redirect to the client's
 *   loopback redirect URI (RFC 8252 §7.3) with the code and the state.
 * - POST /token (RFC 6749 §4.1.3 and §6): authorization_code with the PKCE S256 check (RFC 7636 §4.6),
 *   refresh_token with rotation; errors as in §5.2.
 * - POST /introspect (RFC 7662): what Dovecot's oauth2 passdb asks; HTTP Basic authentication required.
 * - POST /revoke (RFC 7009), and `revokeGrant` / `revokeAccessTokens` for the tests.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** RFC 6749 §4.1.2: a code lives briefly ("maximum of 10 minutes RECOMMENDED"). */
const CODE_LIFETIME_MS = 60_000;
const MAXIMUM_BODY_BYTES = 16 * 1024;
/** Real providers issue long tokens (Google's are about 200 characters); POP3 then needs a continuation. */
const DEFAULT_TOKEN_LENGTH = 220;

export interface AuthorizationServerOptions {
  clientId: string;
  /** Required at /token when set (Google-style desktop clients). */
  clientSecret?: string | null;
  /** 'form' (default): an HTML page with Allow / Deny; 'auto': approve at once. */
  approval?: 'form' | 'auto';
  accessTokenLifetimeSeconds?: number;
  tokenLength?: number;
  /** Issue a new refresh token at each refresh and refuse the old one afterwards (RFC 6749 §6). */
  rotateRefreshTokens?: boolean;
}

export interface TokenCounts {
  codesIssued: number;
  codeExchanges: number;
  refreshes: number;
  introspections: number;
}

export interface TestAuthorizationServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  /** With the resource server's credentials in the user-info part, for Dovecot's introspection_url. */
  introspectionUrl: string;
  /** Lets `loginHint` (an e-mail address) sign in as `username` (the mail server's user name). */
  addUser(loginHint: string, username: string): void;
  setAccessTokenLifetime(seconds: number): void;
  /** An access token for `username` as /token would issue it, without the browser step. */
  issueAccessToken(username: string, lifetimeSeconds?: number): string;
  /** A refresh token for `username`, as after a completed sign-in. */
  issueRefreshToken(username: string): string;
  /** Makes every access token of `username` inactive; refresh tokens keep working. */
  revokeAccessTokens(username: string): void;
  /** The revoke switch: every token of `username`, refresh tokens included, stops working. */
  revokeGrant(username: string): void;
  counts: TokenCounts;
  close(): Promise<void>;
}

interface Grant {
  username: string;
  revoked: boolean;
}

interface AccessTokenRecord {
  grant: Grant;
  expiresAt: number;
  revoked: boolean;
}

interface CodeRecord {
  grant: Grant;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
  used: boolean;
}

function token(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64url')
    .slice(0, length);
}

function sameText(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAXIMUM_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...headers,
  });
  response.end(JSON.stringify(body));
}

function html(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test sign-in</title></head>${body}</html>`,
  );
}

/** RFC 8252 §7.3 / §8.3: only loopback redirect URIs, http, any port. */
function isLoopbackRedirect(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && url.hostname === '127.0.0.1' && url.hash === '';
  } catch {
    return false;
  }
}

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<TestAuthorizationServer> {
  const users = new Map<string, string>();
  const codes = new Map<string, CodeRecord>();
  const accessTokens = new Map<string, AccessTokenRecord>();
  const refreshTokens = new Map<string, Grant>();
  const grants: Grant[] = [];
  const counts: TokenCounts = { codesIssued: 0, codeExchanges: 0, refreshes: 0, introspections: 0 };
  const tokenLength = options.tokenLength ?? DEFAULT_TOKEN_LENGTH;
  let accessTokenLifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3600;
  const introspectionUser = 'dovecot';
  const introspectionPassword = token(24);

  const newGrant = (username: string): Grant => {
    const grant = { username, revoked: false };
    grants.push(grant);
    return grant;
  };
  const newAccessToken = (grant: Grant, lifetimeSeconds = accessTokenLifetimeSeconds): string => {
    const value = token(tokenLength);
    accessTokens.set(value, { grant, expiresAt: Date.now() + lifetimeSeconds * 1000, revoked: false });
    return value;
  };
  const newRefreshToken = (grant: Grant): string => {
    const value = token(tokenLength);
    refreshTokens.set(value, grant);
    return value;
  };

  /** RFC 6749 §4.1.2: back to the client with the code (or the error) and its state. */
  const redirectBack = (
    response: ServerResponse,
    redirectUri: string,
    state: string,
    outcome: { code: string } | { error: string },
  ): void => {
    const target = new URL(redirectUri);
    if ('code' in outcome) target.searchParams.set('code', outcome.code);
    else target.searchParams.set('error', outcome.error);
    target.searchParams.set('state', state);
    response.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
    response.end();
  };

  const issueCode = (username: string, redirectUri: string, challenge: string): string => {
    const code = token(32);
    codes.set(code, {
      grant: newGrant(username),
      redirectUri,
      challenge,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
    });
    counts.codesIssued += 1;
    return code;
  };

  const authorize = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const parameters = request.method === 'POST' ? await readForm(request) : url.searchParams;
    const redirectUri = parameters.get('redirect_uri') ?? '';
    const state = parameters.get('state') ?? '';
    // RFC 6749 §4.1.2.1: a bad client or redirect URI is shown here, never redirected to.
    if (parameters.get('client_id') !== options.clientId || !isLoopbackRedirect(redirectUri)) {
      html(response, 400, '<body><p>Unknown client or redirect URI.</p></body>');
      return;
    }
    const challenge = parameters.get('code_challenge') ?? '';
    if (
      parameters.get('response_type') !== 'code' ||
      parameters.get('code_challenge_method') !== 'S256' ||
      !/^[A-Za-z0-9_-]{43}$/.test(challenge)
    ) {
      redirectBack(response, redirectUri, state, { error: 'invalid_request' });
      return;
    }
    const loginHint = parameters.get('login_hint') ?? '';
    const username = users.get(loginHint.toLowerCase());
    if (username === undefined) {
      html(response, 403, `<body><p>No test user for ${escapeHtml(loginHint)}.</p></body>`);
      return;
    }
    if (request.method === 'POST') {
      if (parameters.get('decision') === 'allow') {
        redirectBack(response, redirectUri, state, { code: issueCode(username, redirectUri, challenge) });
      } else {
        redirectBack(response, redirectUri, state, { error: 'access_denied' });
      }
      return;
    }
    if (options.approval === 'auto') {
      redirectBack(response, redirectUri, state, { code: issueCode(username, redirectUri, challenge) });
      return;
    }
    const hidden = [...parameters]
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('');
    html(
      response,
      200,
      `<body><h1>Allow Whereabouts to use the mail of ${escapeHtml(loginHint)}?</h1>` +
        `<p>Scopes: ${escapeHtml(parameters.get('scope') ?? '')}</p>` +
        `<form method="post" action="/authorize">${hidden}` +
        '<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button>' +
        '</form></body>',
    );
  };

  const tokenEndpoint = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const form = await readForm(request);
    const error = (status: number, code: string, description: string): void =>
      json(response, status, { error: code, error_description: description });
    if (form.get('client_id') !== options.clientId) {
      error(401, 'invalid_client', 'unknown client');
      return;
    }
    if (options.clientSecret && !sameText(form.get('client_secret') ?? '', options.clientSecret)) {
      error(401, 'invalid_client', 'wrong client secret');
      return;
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const record = codes.get(form.get('code') ?? '');
      if (!record || record.used || record.expiresAt < Date.now()) {
        error(400, 'invalid_grant', 'unknown, used or expired code');
        return;
      }
      // RFC 6749 §4.1.2: a code is used once; a second use revokes what the first one issued (§10.5).
      record.used = true;
      if (form.get('redirect_uri') !== record.redirectUri) {
        error(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
        return;
      }
      // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the code_challenge.
      const verifier = form.get('code_verifier') ?? '';
      const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !sameText(computed, record.challenge)) {
        error(400, 'invalid_grant', 'PKCE verification failed');
        return;
      }
      counts.codeExchanges += 1;
      json(response, 200, {
        access_token: newAccessToken(record.grant),
        token_type: 'Bearer',
        expires_in: accessTokenLifetimeSeconds,
        refresh_token: newRefreshToken(record.grant),
        scope: 'mail',
      });
      return;
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      if (!grant || grant.revoked) {
        error(400, 'invalid_grant', 'the refresh token is invalid or revoked');
        return;
      }
      counts.refreshes += 1;
      let refreshToken: string | undefined;
      if (options.rotateRefreshTokens !== false) {
        refreshTokens.delete(presented);
        refreshToken = newRefreshToken(grant);
      }
      json(response, 200, {
        access_token: newAccessToken(grant),
        token_type: 'Bearer',
        expires_in: accessTokenLifetimeSeconds,
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
      });
      return;
    }
    error(400, 'unsupported_grant_type', `grant type ${grantType ?? '(none)'} is not supported`);
  };

  /** RFC 7662 §2: the protected resource (Dovecot) must authenticate; the answer is active or not. */
  const introspect = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const expected = `Basic ${Buffer.from(`${introspectionUser}:${introspectionPassword}`).toString('base64')}`;
    if (!sameText(request.headers.authorization ?? '', expected)) {
      json(response, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="introspection"' });
      return;
    }
    const form = await readForm(request);
    counts.introspections += 1;
    const record = accessTokens.get(form.get('token') ?? '');
    if (!record || record.revoked || record.grant.revoked || record.expiresAt <= Date.now()) {
      json(response, 200, { active: false });
      return;
    }
    json(response, 200, {
      active: true,
      username: record.grant.username,
      client_id: options.clientId,
      token_type: 'Bearer',
      scope: 'mail',
      exp: Math.floor(record.expiresAt / 1000),
    });
  };

  /** RFC 7009 §2: revoking a refresh token revokes its grant; unknown tokens are not an error. */
  const revoke = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const form = await readForm(request);
    const presented = form.get('token') ?? '';
    const grant = refreshTokens.get(presented);
    if (grant) grant.revoked = true;
    const access = accessTokens.get(presented);
    if (access) access.revoked = true;
    response.writeHead(200);
    response.end();
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const route = `${request.method ?? ''} ${url.pathname}`;
    const handle = async (): Promise<void> => {
      if (route === 'GET /authorize' || route === 'POST /authorize') await authorize(request, response, url);
      else if (route === 'POST /token') await tokenEndpoint(request, response);
      else if (route === 'POST /introspect') await introspect(request, response);
      else if (route === 'POST /revoke') await revoke(request, response);
      else json(response, 404, { error: 'not_found' });
    };
    handle().catch(() => {
      if (!response.headersSent) json(response, 400, { error: 'invalid_request' });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    authorizationEndpoint: `${origin}/authorize`,
    tokenEndpoint: `${origin}/token`,
    revocationEndpoint: `${origin}/revoke`,
    introspectionUrl: `http://${introspectionUser}:${introspectionPassword}@127.0.0.1:${port}/introspect`,
    addUser(loginHint, username) {
      users.set(loginHint.toLowerCase(), username);
    },
    setAccessTokenLifetime(seconds) {
      accessTokenLifetimeSeconds = seconds;
    },
    issueAccessToken(username, lifetimeSeconds) {
      return newAccessToken(newGrant(username), lifetimeSeconds);
    },
    issueRefreshToken(username) {
      return newRefreshToken(newGrant(username));
    },
    revokeAccessTokens(username) {
      for (const record of accessTokens.values()) if (record.grant.username === username) record.revoked = true;
    },
    revokeGrant(username) {
      for (const grant of grants) if (grant.username === username) grant.revoked = true;
    },
    counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
