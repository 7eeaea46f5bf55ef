/**
 * Turns what imapflow throws into MailErrors a person can act on. imapflow marks its errors with
 * properties rather than classes: `authenticationFailed`, `tlsFailed`, `responseStatus` (NO/BAD),
 * `responseText`, `serverResponseCode` (RFC 5530 response codes such as OVERQUOTA), `code` (its own
 * codes like GREETING_TIMEOUT, or Node's for socket and TLS failures, which tls-errors.ts maps).
 */
import { MailError } from '../../../shared/errors';
import { toMailError, type CertificateFacts, type ConnectionTarget } from '../tls-errors';

/** The properties imapflow (2.1.2) sets on the errors it throws; all optional, all checked. */
interface ImapflowErrorShape {
  message?: unknown;
  code?: unknown;
  authenticationFailed?: unknown;
  tlsFailed?: unknown;
  responseStatus?: unknown;
  responseText?: unknown;
  serverResponseCode?: unknown;
  /** A parsed response (when thrown by a command) or, after imapflow's enhancement, its text. */
  response?: unknown;
  reason?: unknown;
  /** Set by imapflow when SELECT failed and LIST confirmed the folder does not exist. */
  mailboxMissing?: unknown;
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'ETIMEOUT',
]);
const CLOSED_CODES: ReadonlySet<string> = new Set([
  'NoConnection',
  'EConnectionClosed',
  'StateLogout',
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
]);
const OVERSIZED_CODES: ReadonlySet<string> = new Set(['LiteralTooLarge', 'LineTooLarge', 'ResponseTooLarge']);
const STARTTLS_MISSING_MESSAGE = 'Server does not support STARTTLS';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * The response code (RFC 3501 section 7.1, e.g. `[OVERQUOTA]`) of a failed command: imapflow puts
 * it in `serverResponseCode` for most commands; for commands we send ourselves it is read from
 * the parsed tagged response.
 */
export function responseCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as ImapflowErrorShape;
  const direct = text(shape.serverResponseCode);
  if (direct) return direct.toUpperCase();
  const response = shape.response as { attributes?: unknown } | undefined;
  const attributes = typeof response === 'object' && response !== null ? response.attributes : undefined;
  if (!Array.isArray(attributes)) return undefined;
  const first: unknown = attributes[0];
  const section = typeof first === 'object' && first !== null ? (first as { section?: unknown }).section : undefined;
  if (!Array.isArray(section)) return undefined;
  const code: unknown = section[0];
  const value = typeof code === 'object' && code !== null ? (code as { value?: unknown }).value : undefined;
  return typeof value === 'string' ? value.toUpperCase() : undefined;
}

/** The server's own words for a NO/BAD answer (without the response code). */
export function serverTextOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as ImapflowErrorShape;
  return text(shape.responseText) ?? text(shape.response);
}

export interface ErrorContext extends ConnectionTarget {
  /** What we were doing, completing "… failed while <doing>" style messages, e.g. "moving 3 messages to Archive". */
  doing?: string;
  certificate?: CertificateFacts;
}

function serverRefusal(code: string | undefined, serverText: string | undefined, context: ErrorContext): MailError {
  const details = { host: context.host, port: context.port, serverText };
  const said = serverText ? `: “${serverText}”` : '.';
  const doing = context.doing ? ` ${context.doing}` : '';
  switch (code) {
    case 'OVERQUOTA':
      return new MailError(
        'QUOTA_EXCEEDED',
        `The mailbox on ${context.host} is full, so the server refused${doing}${said} Delete or archive some mail on the server, then try again.`,
        details,
      );
    case 'NONEXISTENT':
    case 'TRYCREATE':
      return new MailError(
        'NOT_FOUND',
        `The folder does not exist on ${context.host}${doing ? ` (while${doing})` : ''}${said}`,
        details,
      );
    case 'ALREADYEXISTS':
      return new MailError(
        'INVALID_INPUT',
        `A folder with that name already exists on ${context.host}${said}`,
        details,
      );
    case 'INUSE':
      return new MailError(
        'MAILBOX_IN_USE',
        `The folder is in use by another program on ${context.host}${said}`,
        details,
      );
    case 'AUTHENTICATIONFAILED':
    case 'AUTHORIZATIONFAILED':
      return new MailError('AUTH_FAILED', `${context.host} did not accept the user name or password${said}`, details);
    default:
      return new MailError('SERVER_ERROR', `${context.host} refused${doing || ' the request'}${said}`, details);
  }
}

/** Maps anything thrown while talking IMAP to a MailError. MailErrors pass through unchanged. */
export function toImapError(error: unknown, context: ErrorContext): MailError {
  if (error instanceof MailError) return error;
  if (typeof error !== 'object' || error === null) {
    return new MailError('INTERNAL', `Something went wrong talking to ${context.host}: ${String(error)}`);
  }
  const shape = error as ImapflowErrorShape;
  const code = text(shape.code);
  const message = text(shape.message) ?? '';
  const where = `${context.host}:${context.port}`;
  const details = { host: context.host, port: context.port };

  if (shape.authenticationFailed === true) {
    const serverText = serverTextOf(error);
    if (responseCodeOf(error) === 'UNAVAILABLE') {
      return new MailError(
        'SERVER_ERROR',
        `${context.host} cannot log you in right now${serverText ? `: “${serverText}”` : ''}. Try again later.`,
        { ...details, serverText },
      );
    }
    return new MailError(
      'AUTH_FAILED',
      `${context.host} did not accept the user name or password${serverText ? ` (“${serverText}”)` : ''}. Check them in the account settings.`,
      { ...details, serverText },
    );
  }
  if (shape.tlsFailed === true && message === STARTTLS_MISSING_MESSAGE) {
    return new MailError(
      'STARTTLS_UNAVAILABLE',
      `${where} does not offer STARTTLS, so the connection cannot be encrypted. Nothing was sent. Use the implicit-TLS port (usually 993) or ask the provider.`,
      details,
    );
  }
  if (code === 'STARTTLS_INJECTION') {
    return new MailError(
      'CONNECTION_LOST',
      `${where} sent unexpected data while switching to encryption (STARTTLS), which is how an attack looks. The connection was closed before anything was sent.`,
      details,
    );
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    const waitingFor =
      code === 'GREETING_TIMEOUT'
        ? 'its greeting'
        : code === 'CONNECT_TIMEOUT'
          ? 'the connection to be set up'
          : code === 'UPGRADE_TIMEOUT'
            ? 'the switch to encryption (STARTTLS)'
            : 'an answer';
    return new MailError('TIMEOUT', `${where} did not answer in time (waiting for ${waitingFor}).`, details);
  }
  if (code !== undefined && OVERSIZED_CODES.has(code)) {
    return new MailError(
      'SERVER_ERROR',
      `${where} sent a response larger than Whereabouts accepts in one piece, so the connection was closed.`,
      details,
    );
  }
  if (code !== undefined && CLOSED_CODES.has(code)) {
    const reason = text(shape.reason);
    return new MailError(
      'CONNECTION_LOST',
      `The connection to ${where} was closed${reason ? ` by the server (“${reason}”)` : ''}. Try again.`,
      details,
    );
  }
  if (code === 'NotFound' || shape.mailboxMissing === true) {
    return serverRefusal('NONEXISTENT', serverTextOf(error), context);
  }
  if (shape.responseStatus === 'NO' || shape.responseStatus === 'BAD') {
    return serverRefusal(responseCodeOf(error), serverTextOf(error), context);
  }
  if (responseCodeOf(error) === 'APPENDLIMIT') {
    return new MailError('SERVER_ERROR', `The message is larger than ${context.host} accepts.`, details);
  }
  if (code !== undefined) return toMailError(error, context, context.certificate);
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError) {
    return new MailError('INTERNAL', `Something went wrong inside Whereabouts while talking to ${where}: ${message}`);
  }
  return new MailError('SERVER_ERROR', `Unexpected answer from ${where}: ${message}`, details);
}
