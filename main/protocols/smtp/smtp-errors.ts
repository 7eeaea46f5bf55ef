/**
 * Turns what nodemailer's SMTP connection reports into MailErrors a person can act on, and records
 * for the outbox whether a failed message may nevertheless have been delivered.
 *
 * RFC 5321 §4.1.1.4: the server takes responsibility for a message only with its reply to the
 * final "." of DATA, and must not deliver a transaction whose data did not end. So a connection
 * lost before the final "." was written means "not sent, safe to retry", and one lost after it
 * means "maybe sent": retrying could deliver the message twice.
 */
import { MailError, type ErrorCode, type ErrorDetails } from '../../../shared/errors';
import type { ServerEndpoint } from '../../../shared/model';
import { toMailError } from '../tls-errors';

/**
 * How far an SMTP session got, in the order it happens: `data` while the message bytes are being
 * handed to the connection, `after-data` once all of them were (the final "." follows at once).
 */
export type SmtpStage = 'connect' | 'authenticate' | 'envelope' | 'data' | 'after-data';

/** RFC 5321 §4.2.2 / RFC 1870: 552 "message size exceeds fixed maximum" (also "mailbox full" at RCPT). */
const SIZE_EXCEEDED_REPLY = 552;
/** RFC 4954 §6: 454 "temporary authentication failure" is the server's trouble, not a wrong password. */
const TEMPORARY_AUTHENTICATION_FAILURE = 454;

/**
 * A failed send. `deliveryUnknown` is true only when the connection broke (or timed out) after the
 * whole message and its final "." were handed to the connection and before the server answered:
 * then the message may or may not have been accepted, and the outbox must not silently retry.
 */
export class SmtpSendError extends MailError {
  constructor(
    code: ErrorCode,
    message: string,
    details: ErrorDetails,
    readonly stage: SmtpStage,
    readonly deliveryUnknown: boolean,
    /** Recipients the server refused, with its reasons (all of them, when it refused every one). */
    readonly rejectedRecipients: RejectedRecipient[] = [],
  ) {
    super(code, message, details);
  }
}

export interface RejectedRecipient {
  address: string;
  serverText: string;
}

/** The fields nodemailer's SMTP connection puts on its errors (lib/smtp-connection `_formatError`). */
interface NodemailerSmtpError {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  message: string;
  recipient?: string;
  rejectedErrors?: unknown[];
}

function asNodemailerError(error: unknown): NodemailerSmtpError | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & Record<string, unknown>;
  return {
    message: error.message,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    response: typeof fields.response === 'string' ? fields.response : undefined,
    responseCode: typeof fields.responseCode === 'number' ? fields.responseCode : undefined,
    command: typeof fields.command === 'string' ? fields.command : undefined,
    recipient: typeof fields.recipient === 'string' ? fields.recipient : undefined,
    rejectedErrors: Array.isArray(fields.rejectedErrors) ? fields.rejectedErrors : undefined,
  };
}

/** Nodemailer's per-recipient errors → address and the server's words. */
export function rejectedRecipientsOf(errors: unknown[] | undefined): RejectedRecipient[] {
  const result: RejectedRecipient[] = [];
  for (const error of errors ?? []) {
    const fields = asNodemailerError(error);
    if (fields?.recipient) result.push({ address: fields.recipient, serverText: fields.response ?? fields.message });
  }
  return result;
}

/** Errors that mean the transport broke, as opposed to the server answering "no". */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set(['ESOCKET', 'ECONNECTION', 'ETIMEDOUT', 'EDNS']);

/** Maps an error from any stage of the session to what the user and the outbox need to know. */
export function toSmtpSendError(error: unknown, endpoint: ServerEndpoint, stage: SmtpStage): SmtpSendError {
  if (error instanceof SmtpSendError) return error;
  const target = { host: endpoint.host, port: endpoint.port };
  const where = `${endpoint.host}:${endpoint.port}`;
  const fields = asNodemailerError(error);
  const serverText = fields?.response?.trim();
  const details: ErrorDetails = serverText ? { ...target, serverText } : target;
  const make = (code: ErrorCode, message: string, rejected: RejectedRecipient[] = []): SmtpSendError =>
    new SmtpSendError(code, message, details, stage, false, rejected);

  if (error instanceof MailError) {
    return new SmtpSendError(error.code, error.message, error.details, stage, false);
  }
  if (!fields) {
    const mapped = toMailError(error, target);
    return new SmtpSendError(mapped.code, mapped.message, mapped.details, stage, false);
  }

  const code = fields.code ?? '';
  if (code === 'EAUTH') {
    if (fields.responseCode === TEMPORARY_AUTHENTICATION_FAILURE) {
      return make('SERVER_ERROR', `${where} could not check your password right now; try again later (${serverText}).`);
    }
    const said = serverText ? ` The server said: ${serverText}` : '';
    return make('AUTH_FAILED', `${endpoint.host} did not accept the user name or password for sending mail.${said}`);
  }
  if (code === 'ETLS') {
    // Only reachable if nodemailer itself tried STARTTLS; we negotiate TLS before handing it the socket.
    return make('STARTTLS_UNAVAILABLE', `${where} could not start encryption${serverText ? ` (${serverText})` : ''}.`);
  }
  if (fields.responseCode === SIZE_EXCEEDED_REPLY) {
    return make(
      'QUOTA_EXCEEDED',
      `${endpoint.host} refused the message because it is too large or the mailbox is full: ${serverText}`,
      rejectedRecipientsOf(fields.rejectedErrors),
    );
  }
  if (code === 'EMESSAGE' && !serverText && /larger than allowed/i.test(fields.message)) {
    // Nodemailer's own check against the SIZE the server announced (RFC 1870), before MAIL FROM.
    const limit = /(\d+)\s*$/.exec(fields.message)?.[1];
    return make(
      'QUOTA_EXCEEDED',
      `The message is larger than ${endpoint.host} accepts${limit ? ` (at most ${limit} bytes)` : ''}. ` +
        'Remove or shrink attachments.',
    );
  }
  if (code === 'EENVELOPE') {
    const rejected = rejectedRecipientsOf(fields.rejectedErrors);
    if (fields.command === 'RCPT TO') {
      const list = rejected.map((entry) => `${entry.address} (${entry.serverText})`).join(', ');
      return make('SERVER_ERROR', `${endpoint.host} refused every recipient: ${list || serverText}`, rejected);
    }
    if (fields.command === 'MAIL FROM') {
      return make('SERVER_ERROR', `${endpoint.host} refused the sender address: ${serverText ?? fields.message}`);
    }
    return make('SERVER_ERROR', `${endpoint.host} refused the message: ${serverText ?? fields.message}`);
  }
  if (code === 'EMESSAGE' || code === 'EPROTOCOL') {
    // A reply to the final "." (or an unexpected reply): the server answered, so nothing was delivered.
    return make('SERVER_ERROR', `${endpoint.host} refused the message: ${serverText ?? fields.message}`);
  }
  if (CONNECTION_FAILURES.has(code)) {
    const deliveryUnknown = stage === 'after-data';
    if (serverText && /^[45]\d\d/.test(serverText)) {
      // E.g. a 421 greeting or a server closing with "421 too many connections".
      return new SmtpSendError(
        'SERVER_ERROR',
        `${endpoint.host} closed the connection: ${serverText}`,
        details,
        stage,
        deliveryUnknown,
      );
    }
    const mappedCode: ErrorCode =
      code === 'ETIMEDOUT' ? 'TIMEOUT' : code === 'EDNS' ? 'HOST_NOT_FOUND' : 'CONNECTION_LOST';
    const base =
      mappedCode === 'TIMEOUT'
        ? `${where} stopped answering`
        : mappedCode === 'HOST_NOT_FOUND'
          ? `The server name ${endpoint.host} could not be found`
          : `The connection to ${where} was lost`;
    const outcome = deliveryUnknown
      ? ' after the whole message was sent and before the server confirmed it: it may or may not have been delivered.'
      : stage === 'data' || stage === 'envelope'
        ? ' before the message was complete, so it was not sent.'
        : '.';
    return new SmtpSendError(mappedCode, `${base}${outcome}`, details, stage, deliveryUnknown);
  }
  const mapped = toMailError(error, target);
  return new SmtpSendError(mapped.code, mapped.message, mapped.details, stage, false);
}

/** For the outbox: whether a failed send may have been delivered anyway (never retry those silently). */
export function isDeliveryUnknown(error: unknown): boolean {
  return error instanceof SmtpSendError && error.deliveryUnknown;
}
