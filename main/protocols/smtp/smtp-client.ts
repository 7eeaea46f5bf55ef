/**
 * Sending mail: message submission (RFC 6409) over nodemailer's SMTP connection, on a socket that
 * smtp-socket.ts has already secured and verified.
 *
 * The message is composed first (compose.ts), so `raw` in the result is exactly what the server
 * received: the caller appends those bytes to the IMAP Sent folder or stores them locally (S7).
 */
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from 'nodemailer/lib/shared';
import { MailError } from '../../../shared/errors';
import type { ServerEndpoint } from '../../../shared/model';
import { prepareMessage, type OutgoingMessage, type RawOutgoingMessage } from './compose';
import {
  rejectedRecipientsOf,
  toSmtpSendError,
  SmtpSendError,
  type RejectedRecipient,
  type SmtpStage,
} from './smtp-errors';
import {
  DEFAULT_SMTP_TIMEOUTS,
  EHLO_NAME,
  openSmtpSocket,
  type SmtpTimeouts,
  type TranscriptListener,
} from './smtp-socket';

export type SmtpCredentials = { username: string; password: string } | { username: string; accessToken: string };

export type SmtpLogin = { endpoint: ServerEndpoint } & SmtpCredentials;

export interface SmtpOptions {
  timeouts?: Partial<SmtpTimeouts>;
  /** Every protocol line, passwords and tokens masked; message contents are not included. */
  transcript?: TranscriptListener;
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  /** The server's reason for each refused recipient. */
  rejectedReasons: RejectedRecipient[];
  messageId: string | null;
  /** The exact bytes the server received (before its own trace headers), for Sent / local storage. */
  raw: Buffer;
  /** The server's reply to the end of data, e.g. "250 2.0.0 Ok: queued as 4Xyz". */
  response: string;
}

/** Chunks handed to the connection at a time, so a large message streams with backpressure. */
const BODY_CHUNK_BYTES = 64 * 1024;
/** Idle time after which an open connection counts as dead (nodemailer's socketTimeout). */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** The greeting nodemailer waits for after we ran STARTTLS ourselves; see `SmtpSession.open`. */
const RESUMED_GREETING = Buffer.from('220 [whereabouts] TLS established, continuing session\r\n');

function toMasked(line: string): string {
  // RFC 4954 §4: an initial response after AUTH and its mechanism is a credential. (Nodemailer
  // already masks the password line of AUTH LOGIN itself.)
  const authentication = /^(AUTH\s+\S+)\s+\S+/i.exec(line);
  if (authentication) return `${authentication[1]} ***`;
  return line;
}

/**
 * Our name for the XOAUTH2 handler in nodemailer's `customAuth` table. Not "XOAUTH2" itself: for that
 * name nodemailer insists on its own token-refreshing client (lib/smtp-connection `login`). What goes
 * on the wire is still `AUTH XOAUTH2`.
 */
const BEARER_METHOD = 'WHEREABOUTS-BEARER';

/**
 * SASL XOAUTH2 (Google's and Microsoft's bearer-token mechanism): one initial response
 * "user=…^Aauth=Bearer …^A^A". On failure the server sends a 334 challenge with a JSON error and
 * expects an empty line before its final 535.
 */
function bearerHandler(username: string, accessToken: string): SMTPConnection.CustomAuthenticationHandlers {
  return {
    [BEARER_METHOD]: async (context) => {
      const token = Buffer.from(`user=${username}\x01auth=Bearer ${accessToken}\x01\x01`, 'utf8').toString('base64');
      let response = await context.sendCommand(`AUTH XOAUTH2 ${token}`);
      if (response.status === 334) response = await context.sendCommand('');
      if (response.status === 235) context.resolve();
      else context.reject(new Error(response.response));
    },
  };
}

/** A nodemailer logger that passes its protocol lines (`tnx` client/server) to `listener`. */
function transcriptLogger(listener: (direction: 'client' | 'server', line: string) => void): Logger {
  const forward = (...params: unknown[]): void => {
    const [entry, message] = params;
    if (typeof entry !== 'object' || entry === null || typeof message !== 'string') return;
    const direction = (entry as { tnx?: unknown }).tnx;
    if (direction !== 'client' && direction !== 'server') return;
    for (const line of message.split(/\r?\n/)) listener(direction, line);
  };
  return {
    level: () => undefined,
    trace: forward,
    debug: forward,
    info: forward,
    warn: forward,
    error: forward,
    fatal: forward,
  };
}

/** Nodemailer notes in `allowsAuth` whether the EHLO reply offered AUTH; @types/nodemailer omits it. */
function offersAuthentication(connection: SMTPConnection): boolean {
  return (connection as unknown as { allowsAuth?: unknown }).allowsAuth === true;
}

function closedError(): Error {
  return Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' });
}

/** One SMTP session, with the stage it reached, so a failure can say whether mail may have gone out. */
class SmtpSession {
  stage: SmtpStage = 'connect';
  private pendingFailure: ((error: unknown) => void) | null = null;
  private ended = false;

  private constructor(
    private readonly endpoint: ServerEndpoint,
    private readonly connection: SMTPConnection,
  ) {
    // Socket-level failures arrive as 'error' events, not through the callbacks (lib/smtp-connection
    // `_onError`); they fail whatever step is under way. The listener also keeps a late error (after
    // QUIT, say) from crashing the process.
    connection.on('error', (error) => this.pendingFailure?.(error));
    connection.on('end', () => {
      this.ended = true;
      this.pendingFailure?.(closedError());
    });
  }

  /** Connects, secures (smtp-socket.ts) and logs in. */
  static async open(login: SmtpLogin, options: SmtpOptions): Promise<SmtpSession> {
    const { endpoint } = login;
    const timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
    assertCredentials(login);
    let opened;
    try {
      opened = await openSmtpSocket(endpoint, timeouts, options.transcript);
    } catch (error) {
      throw toSmtpSendError(error, endpoint, 'connect');
    }
    if (opened.greetingConsumed) {
      // We already read the real greeting and ran STARTTLS (smtp-socket.ts). Nodemailer's state
      // machine starts by waiting for a greeting; this line, which no server sent, lets it go on to
      // what RFC 3207 §4.2 requires after the handshake: a fresh EHLO, now over TLS.
      opened.socket.unshift(RESUMED_GREETING);
    }
    const transcript = options.transcript;
    const connectionOptions: SMTPConnection.Options & { secured: boolean } = {
      host: endpoint.host,
      port: endpoint.port,
      connection: opened.socket,
      // `secure` + `secured` (lib/smtp-connection): the socket is TLS already, do not upgrade it again.
      secure: opened.secured,
      secured: opened.secured,
      // With `none` the user chose plaintext: no opportunistic upgrade whose certificate could then fail.
      ignoreTLS: !opened.secured,
      name: EHLO_NAME,
      connectionTimeout: timeouts.connectMs,
      greetingTimeout: timeouts.replyMs,
      socketTimeout: Math.max(timeouts.replyMs, SOCKET_IDLE_TIMEOUT_MS),
      ...('accessToken' in login ? { customAuth: bearerHandler(login.username, login.accessToken) } : {}),
      ...(transcript
        ? {
            transactionLog: true,
            logger: transcriptLogger((direction, line) => {
              // The resumed greeting is ours, not the server's: keep the transcript truthful.
              if (opened.greetingConsumed && `${line}\r\n` === RESUMED_GREETING.toString('latin1')) return;
              transcript({ direction, line: direction === 'client' ? toMasked(line) : line });
            }),
          }
        : {}),
    };
    const session = new SmtpSession(endpoint, new SMTPConnection(connectionOptions));
    await session.step<void>((resolve) => session.connection.connect(() => resolve()));
    await session.authenticate(login);
    return session;
  }

  /** Runs one callback-style step; a failure during it closes the session and is mapped to a MailError. */
  private async step<T>(run: (resolve: (value: T) => void, reject: (error: unknown) => void) => void): Promise<T> {
    try {
      if (this.ended) throw closedError();
      return await new Promise<T>((resolve, reject) => {
        this.pendingFailure = reject;
        run(resolve, reject);
      });
    } catch (error) {
      this.connection.close();
      throw toSmtpSendError(error, this.endpoint, this.stage);
    } finally {
      this.pendingFailure = null;
    }
  }

  private async authenticate(credentials: SmtpCredentials): Promise<void> {
    this.stage = 'authenticate';
    if (!offersAuthentication(this.connection)) {
      this.connection.close();
      throw new SmtpSendError(
        'SERVER_ERROR',
        `${this.endpoint.host}:${this.endpoint.port} does not offer to log in (no AUTH in its EHLO reply). ` +
          'Check the port: mail submission is usually on 587 (STARTTLS) or 465 (TLS).',
        { host: this.endpoint.host, port: this.endpoint.port },
        this.stage,
        false,
      );
    }
    const auth: SMTPConnection.Credentials & { method?: string } =
      'accessToken' in credentials
        ? { user: credentials.username, pass: '', method: BEARER_METHOD }
        : { user: credentials.username, pass: credentials.password };
    await this.step<void>((resolve, reject) =>
      this.connection.login(auth, (error) => (error ? reject(error) : resolve())),
    );
  }

  async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SMTPConnection.SentMessageInfo> {
    this.stage = 'envelope';
    // Nodemailer reads the body only after the server answered DATA with 354 (lib/smtp-connection
    // `send`), so the first read marks the start of the data; the end of our stream means every byte
    // is with the connection and the final "." goes out right behind it.
    let offset = 0;
    const body = new Readable({
      read: () => {
        if (this.stage === 'envelope') this.stage = 'data';
        if (offset >= raw.length) {
          body.push(null);
          return;
        }
        const chunk = raw.subarray(offset, offset + BODY_CHUNK_BYTES);
        offset += chunk.length;
        body.push(chunk);
      },
    });
    body.once('end', () => {
      if (this.stage === 'data') this.stage = 'after-data';
    });
    return await this.step<SMTPConnection.SentMessageInfo>((resolve, reject) =>
      this.connection.send({ from: envelope.from, to: envelope.to, size: raw.length }, body, (error, info) =>
        error ? reject(error) : resolve(info),
      ),
    );
  }

  /** Ends the session politely (RFC 5321 §4.1.1.10) without waiting: the work is already done. */
  quit(): void {
    if (this.ended) return;
    this.connection.quit();
  }
}

function assertCredentials(login: SmtpLogin): void {
  const secret = 'accessToken' in login ? login.accessToken : login.password;
  if (typeof login.username !== 'string' || login.username === '' || typeof secret !== 'string' || secret === '') {
    throw new MailError('INVALID_INPUT', 'A user name and a password (or access token) are needed to send mail.');
  }
}

/**
 * Composes (unless given raw bytes), connects, logs in and submits one message. Recipients the
 * server refuses are listed in `rejected` while the others still get the message; when it refuses
 * all of them, or anything else fails, it throws an SmtpSendError (a MailError) whose
 * `deliveryUnknown` tells the outbox whether the message may have gone out anyway.
 */
export async function sendMessage(
  login: SmtpLogin,
  message: OutgoingMessage | RawOutgoingMessage,
  options: SmtpOptions = {},
): Promise<SendResult> {
  const prepared = await prepareMessage(message);
  const session = await SmtpSession.open(login, options);
  const info = await session.send(prepared.envelope, prepared.raw);
  session.quit();
  return {
    accepted: info.accepted.map(String),
    rejected: info.rejected.map(String),
    rejectedReasons: rejectedRecipientsOf(info.rejectedErrors),
    messageId: prepared.messageId,
    raw: prepared.raw,
    response: info.response,
  };
}

/** The account set-up's connection test: connect, secure, log in, QUIT. Throws a MailError on failure. */
export async function verifySmtp(
  endpoint: ServerEndpoint,
  credentials: SmtpCredentials,
  options: SmtpOptions = {},
): Promise<void> {
  const session = await SmtpSession.open({ endpoint, ...credentials }, options);
  session.quit();
}
