/**
 * Opens the connection to an SMTP submission server and secures it before nodemailer sees it.
 *
 * Why we open the socket ourselves instead of letting nodemailer do it: the trust decision
 * (verified chain and host name, or exactly the pinned certificate) must be taken before a single
 * byte of the session — above all AUTH — is written. Nodemailer's STARTTLS upgrade sends EHLO from
 * its own handshake callback, so a check for a pinned self-signed certificate could only run after
 * that; and it replaces Node's certificate error codes with its own (`ESOCKET`), which would turn
 * "expired" and "wrong host" into guesses over message texts. So:
 *
 * - `tls` (RFC 8314 implicit TLS): TLS handshake, trust decision, then the session.
 * - `starttls` (RFC 3207): greeting, EHLO, STARTTLS here; the upgrade is required, never
 *   opportunistic. A server that does not offer STARTTLS is refused before anything else is sent.
 * - `none`: only when the account explicitly allows plaintext; refused before connecting otherwise.
 */
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { MailError } from '../../../shared/errors';
import type { ServerEndpoint } from '../../../shared/model';
import { timeoutError, tlsConnectionOptions, toMailError, verifyTlsPeer, watchPeerCertificate } from '../tls-errors';

export interface SmtpTimeouts {
  /** TCP connect plus TLS handshake. */
  connectMs: number;
  /** Waiting for one server reply (greeting, EHLO, each command). */
  replyMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connectMs: 20_000, replyMs: 60_000 };

export interface TranscriptEntry {
  direction: 'client' | 'server';
  line: string;
}

/** Receives every protocol line (credentials masked), for diagnostics and for tests. */
export type TranscriptListener = (entry: TranscriptEntry) => void;

export interface OpenedSmtpSocket {
  socket: net.Socket;
  /** True when the socket is TLS (implicit, or after STARTTLS). */
  secured: boolean;
  /** True when the greeting was already consumed here (STARTTLS): the session must re-issue EHLO. */
  greetingConsumed: boolean;
}

/**
 * The name we greet with (RFC 5321 §4.1.4). A desktop client has no stable host name of its own, and
 * the machine's name would leak into every Received header, so we use an address literal.
 */
export const EHLO_NAME = '[127.0.0.1]';

/** RFC 5321 §4.5.3.1.5 limits a reply line to 512 octets; allow generous slack but not unbounded memory. */
const MAXIMUM_REPLY_BYTES = 64 * 1024;

interface SmtpReply {
  code: number;
  lines: string[];
  text: string;
}

/** Reads complete SMTP replies (multi-line "250-…" up to the final "250 …") from a plain socket. */
class ReplyReader {
  private buffered = '';
  private readonly replies: SmtpReply[] = [];
  private currentLines: string[] = [];
  private waiter: { resolve: (reply: SmtpReply) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly socket: net.Socket,
    private readonly transcript: TranscriptListener | undefined,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
  }

  async next(timeoutMs: number, target: { host: string; port: number }, waitingFor: string): Promise<SmtpReply> {
    const ready = this.replies.shift();
    if (ready) return ready;
    if (this.failure) throw this.failure;
    return await new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(timeoutError(target, timeoutMs, waitingFor));
      }, timeoutMs);
      this.waiter = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    // latin1 keeps every byte; replies are ASCII (RFC 5321 §2.4) and only shown to people.
    this.buffered += chunk.toString('latin1');
    if (this.buffered.length > MAXIMUM_REPLY_BYTES) {
      this.fail(new MailError('SERVER_ERROR', 'The server sent an over-long reply; this is not an SMTP server.'));
      return;
    }
    let end = this.buffered.indexOf('\n');
    while (end !== -1) {
      const line = this.buffered.slice(0, end).replace(/\r$/, '');
      this.buffered = this.buffered.slice(end + 1);
      this.acceptLine(line);
      end = this.buffered.indexOf('\n');
    }
  };

  private acceptLine(line: string): void {
    this.transcript?.({ direction: 'server', line });
    this.currentLines.push(line);
    // RFC 5321 §4.2.1: "code-text" continues the reply, "code text" (or a bare code) ends it.
    if (/^\d{3}-/.test(line)) return;
    const code = /^\d{3}/.test(line) ? Number(line.slice(0, 3)) : 0;
    const lines = this.currentLines.map((text) => text.slice(4));
    const reply: SmtpReply = { code, lines, text: this.currentLines.join('\n') };
    this.currentLines = [];
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve(reply);
    } else {
      this.replies.push(reply);
    }
  }

  private readonly onError = (error: Error): void => this.fail(error);

  private readonly onClose = (): void =>
    this.fail(Object.assign(new Error('Connection closed'), { code: 'ECONNRESET' }));

  private fail(error: Error): void {
    if (!this.failure) this.failure = error;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.reject(error);
    }
  }
}

/**
 * Closes a socket we are giving up on. The no-op listener matters: an 'error' emitted after our own
 * listeners are gone would otherwise crash the process.
 */
function discard(socket: net.Socket): void {
  socket.on('error', ignoreError);
  socket.destroy();
}

function ignoreError(): void {}

function target(endpoint: ServerEndpoint): { host: string; port: number } {
  return { host: endpoint.host, port: endpoint.port };
}

/** Refuses a plaintext endpoint the user has not explicitly allowed, before any connection is made. */
export function assertTransportAllowed(endpoint: ServerEndpoint): void {
  if (endpoint.security === 'none' && endpoint.allowPlaintext !== true) {
    throw new MailError(
      'PLAINTEXT_REFUSED',
      `Sending through ${endpoint.host}:${endpoint.port} without encryption would expose your password. ` +
        'Choose TLS or STARTTLS, or explicitly allow an unencrypted connection for this account.',
      target(endpoint),
    );
  }
}

async function connectPlain(endpoint: ServerEndpoint, timeouts: SmtpTimeouts): Promise<net.Socket> {
  const socket = net.connect({ host: endpoint.host, port: endpoint.port });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(timeoutError(target(endpoint), timeouts.connectMs, 'the connection')),
        timeouts.connectMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(toMailError(error, target(endpoint)));
      });
    });
  } catch (error) {
    discard(socket);
    throw error;
  }
  return socket;
}

/** Runs the TLS handshake (over `plainSocket` after STARTTLS, or a fresh connection) and decides trust. */
async function handshake(
  endpoint: ServerEndpoint,
  timeouts: SmtpTimeouts,
  plainSocket: net.Socket | undefined,
): Promise<TLSSocket> {
  const trust = { ...target(endpoint), pinnedFingerprint: endpoint.pinnedFingerprint };
  const socket = tls.connect({ ...tlsConnectionOptions(trust), ...(plainSocket ? { socket: plainSocket } : {}) });
  const peerFacts = watchPeerCertificate(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(timeoutError(target(endpoint), timeouts.connectMs, 'the TLS handshake')),
        timeouts.connectMs,
      );
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(toMailError(error, target(endpoint), peerFacts()));
      });
    });
    const refusal = verifyTlsPeer(socket, trust);
    if (refusal) throw refusal;
  } catch (error) {
    discard(socket);
    if (plainSocket) discard(plainSocket);
    throw error;
  }
  return socket;
}

function replyError(endpoint: ServerEndpoint, reply: SmtpReply, doing: string): MailError {
  return new MailError('SERVER_ERROR', `${endpoint.host} refused ${doing}: ${reply.text}`, {
    ...target(endpoint),
    serverText: reply.text,
  });
}

/**
 * RFC 3207: greeting, EHLO, STARTTLS, then the TLS handshake. Nothing but EHLO and STARTTLS is ever
 * sent in the clear.
 */
async function startTls(
  endpoint: ServerEndpoint,
  timeouts: SmtpTimeouts,
  transcript: TranscriptListener | undefined,
): Promise<TLSSocket> {
  const socket = await connectPlain(endpoint, timeouts);
  const reader = new ReplyReader(socket, transcript);
  const send = (line: string): void => {
    transcript?.({ direction: 'client', line });
    socket.write(`${line}\r\n`);
  };
  try {
    const greeting = await reader.next(timeouts.replyMs, target(endpoint), 'the greeting');
    if (greeting.code !== 220) throw replyError(endpoint, greeting, 'the connection');
    send(`EHLO ${EHLO_NAME}`);
    const ehlo = await reader.next(timeouts.replyMs, target(endpoint), 'the answer to EHLO');
    if (ehlo.code !== 250) throw replyError(endpoint, ehlo, 'EHLO');
    // The first line is the server's name; the others are extension keywords (RFC 5321 §4.1.1.1).
    const offersStartTls = ehlo.lines.slice(1).some((line) => line.trim().toUpperCase() === 'STARTTLS');
    if (!offersStartTls) {
      throw new MailError(
        'STARTTLS_UNAVAILABLE',
        `${endpoint.host}:${endpoint.port} does not offer STARTTLS, so the connection cannot be encrypted. ` +
          'Nothing was sent. Try implicit TLS (usually port 465), or ask your provider.',
        target(endpoint),
      );
    }
    send('STARTTLS');
    const ready = await reader.next(timeouts.replyMs, target(endpoint), 'the answer to STARTTLS');
    if (ready.code !== 220) {
      throw new MailError(
        'STARTTLS_UNAVAILABLE',
        `${endpoint.host}:${endpoint.port} refused to start encryption (${ready.text}). Nothing else was sent.`,
        { ...target(endpoint), serverText: ready.text },
      );
    }
  } catch (error) {
    reader.detach();
    discard(socket);
    throw toMailError(error, target(endpoint));
  }
  reader.detach();
  // From here the TLS socket reports errors; an error surfacing on the plain one must not crash us.
  socket.on('error', ignoreError);
  return await handshake(endpoint, timeouts, socket);
}

/**
 * Connects to `endpoint` as its security setting demands and returns a socket ready for the SMTP
 * session: implicit TLS and plaintext still carry the greeting; after STARTTLS the session must
 * start again with EHLO (RFC 3207 §4.2).
 */
export async function openSmtpSocket(
  endpoint: ServerEndpoint,
  timeouts: SmtpTimeouts,
  transcript?: TranscriptListener,
): Promise<OpenedSmtpSocket> {
  assertTransportAllowed(endpoint);
  switch (endpoint.security) {
    case 'tls':
      return { socket: await handshake(endpoint, timeouts, undefined), secured: true, greetingConsumed: false };
    case 'starttls':
      return { socket: await startTls(endpoint, timeouts, transcript), secured: true, greetingConsumed: true };
    case 'none':
      return { socket: await connectPlain(endpoint, timeouts), secured: false, greetingConsumed: false };
  }
}
