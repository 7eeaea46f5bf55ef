/**
 * Error codes that cross from main to the renderer (and out of the CLI). Each one names a
 * situation the user can act on; `message` is a sentence a person understands.
 */
export const ERROR_CODES = [
  'AUTH_FAILED',
  'CERT_UNTRUSTED',
  'CERT_HOSTNAME_MISMATCH',
  'CERT_EXPIRED',
  'STARTTLS_UNAVAILABLE',
  'PLAINTEXT_REFUSED',
  'CONNECTION_REFUSED',
  'HOST_NOT_FOUND',
  'TIMEOUT',
  'CONNECTION_LOST',
  'SERVER_ERROR',
  'MAILBOX_IN_USE',
  'QUOTA_EXCEEDED',
  'SIZE_MISMATCH',
  'DISK_FULL',
  'NOT_FOUND',
  'INVALID_INPUT',
  'NOT_AVAILABLE_IN_MODE',
  /** The user stopped the work (cancelWork); what was finished is kept. */
  'CANCELLED',
  'UNAUTHORIZED',
  'UNKNOWN_METHOD',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  /** The server's own words for NO / BAD / -ERR answers. */
  serverText?: string;
  /** SHA-256 fingerprint of the certificate the server presented (64 lower-case hex digits). */
  fingerprint?: string;
  host?: string;
  port?: number;
}

/** The wire form of an error. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export class MailError extends Error {
  override readonly name = 'MailError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into the wire form, keeping internals out of user-facing text. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof MailError) return error.toPayload();
  if (
    typeof error === 'object' &&
    error !== null &&
    isErrorCode((error as { code?: unknown }).code) &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    const { code, message, details } = error as ErrorPayload;
    return { code, message, details };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Something went wrong inside Whereabouts: ${message}` };
}
