/**
 * Who may talk to the loopback bridge. Any web page the user visits can aim requests at
 * 127.0.0.1, so the bridge checks three things before it serves the mail API:
 * - the Host header names the loopback address and our port, which defeats DNS rebinding (an
 *   attacker's name re-pointed at 127.0.0.1 still sends its own name as Host, RFC 9110 section 7.2);
 * - the Origin header is our own origin, which stops cross-site WebSocket hijacking (browsers
 *   always send Origin on a WebSocket handshake, RFC 6455 section 4.1, item 8, and section 10.2);
 * - the per-launch token, which only the window we opened knows.
 */
import { timingSafeEqual } from 'node:crypto';

export const RPC_PATH = '/rpc';
export const TOKEN_PARAMETER = 'token';

export type GuardVerdict = { ok: true } | { ok: false; status: 400 | 401 | 403 | 404; reason: string };

const ALLOWED = { ok: true } as const;

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function allowedOrigins(port: number): string[] {
  return allowedHosts(port).map((host) => `http://${host}`);
}

export function checkHost(host: string | undefined, port: number): GuardVerdict {
  if (host !== undefined && allowedHosts(port).includes(host.toLowerCase())) return ALLOWED;
  return { ok: false, status: 403, reason: `Host "${host ?? ''}" is not this computer's loopback address.` };
}

/**
 * `required`: the WebSocket handshake must carry our Origin. Plain page loads may omit it (a
 * top-level navigation sends none), but one that names another site is refused.
 */
export function checkOrigin(origin: string | undefined, port: number, required: boolean): GuardVerdict {
  if (origin === undefined) {
    return required ? { ok: false, status: 403, reason: 'The request carries no Origin.' } : ALLOWED;
  }
  if (allowedOrigins(port).includes(origin.toLowerCase())) return ALLOWED;
  return { ok: false, status: 403, reason: `Origin "${origin}" may not use Whereabouts.` };
}

/** Constant-time comparison so the token cannot be guessed a character at a time. */
export function tokensMatch(presented: string, expected: string): boolean {
  const presentedBytes = Buffer.from(presented, 'utf8');
  const expectedBytes = Buffer.from(expected, 'utf8');
  return presentedBytes.length === expectedBytes.length && timingSafeEqual(presentedBytes, expectedBytes);
}

export interface HandshakeRequest {
  url: string | undefined;
  host: string | undefined;
  origin: string | undefined;
}

export function guardUpgrade(request: HandshakeRequest, port: number, token: string): GuardVerdict {
  const host = checkHost(request.host, port);
  if (!host.ok) return host;
  const origin = checkOrigin(request.origin, port, true);
  if (!origin.ok) return origin;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== RPC_PATH) return { ok: false, status: 404, reason: 'No such endpoint.' };
  const presented = url.searchParams.get(TOKEN_PARAMETER);
  if (presented === null) return { ok: false, status: 401, reason: 'The request carries no token.' };
  if (!tokensMatch(presented, token)) return { ok: false, status: 401, reason: 'The token is wrong.' };
  return ALLOWED;
}

/** Static files are the public renderer bundle, so they need no token, but they get the same Host and Origin checks. */
export function guardPageRequest(request: Omit<HandshakeRequest, 'url'>, port: number): GuardVerdict {
  const host = checkHost(request.host, port);
  if (!host.ok) return host;
  return checkOrigin(request.origin, port, false);
}
