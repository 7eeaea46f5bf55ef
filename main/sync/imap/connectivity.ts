/**
 * Which failures mean "the server cannot be reached" (the account goes offline, the work is
 * retried after reconnecting) and which are the server's answer to one request (that request
 * fails, the rest goes on).
 */
import { MailError, type ErrorCode } from '../../../shared/errors';
import type { ConnectivityState } from '../../../shared/model';

/** The network is down or the server is gone: try again later, nothing for the user to fix. */
const OFFLINE_CODES: ReadonlySet<ErrorCode> = new Set([
  'CONNECTION_REFUSED',
  'HOST_NOT_FOUND',
  'TIMEOUT',
  'CONNECTION_LOST',
]);

/** The server was reached but refuses us until the user changes something (password, certificate…). */
const USER_ACTION_CODES: ReadonlySet<ErrorCode> = new Set([
  'AUTH_FAILED',
  'CERT_UNTRUSTED',
  'CERT_HOSTNAME_MISMATCH',
  'CERT_EXPIRED',
  'STARTTLS_UNAVAILABLE',
  'PLAINTEXT_REFUSED',
]);

/** The account state a failure puts the account in, or null when the failure concerns one request only. */
export function connectivityAfter(error: unknown): Exclude<ConnectivityState, 'online' | 'connecting'> | null {
  if (!(error instanceof MailError)) return null;
  if (OFFLINE_CODES.has(error.code)) return 'offline';
  if (USER_ACTION_CODES.has(error.code)) return 'error';
  return null;
}

export function isConnectionFailure(error: unknown): boolean {
  return connectivityAfter(error) !== null;
}

export function toMailError(error: unknown): MailError {
  if (error instanceof MailError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new MailError('INTERNAL', `Something went wrong while synchronizing: ${reason}`);
}
