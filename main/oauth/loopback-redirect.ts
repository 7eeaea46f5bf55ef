/**
 * The loopback redirect of RFC 8252 §7.3: a one-shot HTTP listener on 127.0.0.1 and a port the system
 * picks, which the system browser is sent back to with the authorization code. Never an embedded web
 * view (RFC 8252 §8.12): the person signs in where their password manager and their provider's
 * protections are, and Whereabouts never sees the password.
 *
 * The IP literal, not "localhost" (§8.3): a name could resolve elsewhere or to ::1 while we listen on
 * IPv4. Only the request that carries our `state` counts (RFC 6749 §10.12); anything else — a favicon,
 * a forged link from another page — gets an answer and changes nothing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MailError } from '../../shared/errors';

export const LOOPBACK_HOST = '127.0.0.1';
/** The path of the redirect URI: the root, which every provider's loopback registration accepts. */
export const REDIRECT_PATH = '/';
/** Time to sign in, including two-factor steps, before the listener gives up. */
export const SIGN_IN_TIMEOUT_MS = 10 * 60_000;

export interface LoopbackRedirect {
  /** `http://127.0.0.1:PORT/`, for the authorization and the token request alike. */
  redirectUri: string;
  /** The authorization code, once the browser came back with our state; rejects with a MailError. */
  code: Promise<string>;
  /** Stops listening; a sign-in still waiting is rejected as cancelled. Safe to call twice. */
  close(): void;
}

export interface LoopbackOptions {
  state: string;
  /** The provider's name for the pages shown in the browser. */
  providerName: string;
  timeoutMs?: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** A page with nothing active on it; the strict policy and no referrer keep the code from leaking on. */
function page(response: ServerResponse, status: number, title: string, text: string): void {
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;margin:3em"><h1>${escapeHtml(title)}</h1>` +
    `<p>${escapeHtml(text)}</p></body></html>`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(body);
}

/** RFC 6749 §4.1.2.1 error codes, as a sentence. */
function describeRefusal(error: string, providerName: string): string {
  if (error === 'access_denied') return `You did not allow Whereabouts to use your mail at ${providerName}.`;
  return `${providerName} did not complete the sign-in (${error.replace(/[^\x20-\x7e]/g, '').slice(0, 100)}).`;
}

/** Starts listening; resolves once the port is known, so the authorization URL can be built. */
export async function listenForRedirect(options: LoopbackOptions): Promise<LoopbackRedirect> {
  let settle: { resolve(code: string): void; reject(error: MailError): void } | null = null;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The caller may close before awaiting `code`; a rejection nobody awaits must not crash the process.
  code.catch(() => undefined);
  let finished = false;
  let timer: NodeJS.Timeout | null = null;

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${LOOPBACK_HOST}`);
    const parameters = url.searchParams;
    if (request.method !== 'GET' || url.pathname !== REDIRECT_PATH || !parameters.has('state')) {
      page(response, 404, 'Not found', 'This address belongs to a Whereabouts sign-in and has nothing else.');
      return;
    }
    if (finished || parameters.get('state') !== options.state) {
      page(
        response,
        400,
        'Not this sign-in',
        'Whereabouts is not waiting for this sign-in. Start signing in again from Whereabouts.',
      );
      return;
    }
    const refusal = parameters.get('error');
    const authorizationCode = parameters.get('code');
    if (refusal !== null || !authorizationCode) {
      const message = describeRefusal(refusal ?? 'no code', options.providerName);
      page(response, 200, 'Sign-in not completed', `${message} You can close this tab.`);
      finish(new MailError('AUTH_FAILED', message, { serverText: refusal ?? 'no code' }));
      return;
    }
    page(response, 200, 'Signed in', 'Whereabouts has your sign-in. You can close this tab and return to the app.');
    finish(authorizationCode);
  });

  function finish(outcome: string | MailError): void {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    // Let the last page go out, then stop; no keep-alive connection holds the port.
    server.close();
    setImmediate(() => server.closeAllConnections());
    if (typeof outcome === 'string') settle?.resolve(outcome);
    else settle?.reject(outcome);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Port 0: the system picks a free one (RFC 8252 §7.3 "any port").
    server.listen({ host: LOOPBACK_HOST, port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const timeoutMs = options.timeoutMs ?? SIGN_IN_TIMEOUT_MS;
  timer = setTimeout(
    () =>
      finish(
        new MailError(
          'TIMEOUT',
          `The sign-in at ${options.providerName} was not completed within ${Math.round(timeoutMs / 60_000)} minutes. Start again when you are ready.`,
        ),
      ),
    timeoutMs,
  );
  return {
    redirectUri: `http://${LOOPBACK_HOST}:${port}${REDIRECT_PATH}`,
    code,
    close: () => finish(new MailError('AUTH_FAILED', 'The sign-in was cancelled.', { serverText: 'cancelled' })),
  };
}
