/**
 * Shared set-up for the IMAP adapter's tests against the real test Dovecot (e2e/mailserver):
 * endpoints, sessions for a test user, crafted messages, and a session that is always closed.
 */
import { createHash } from 'node:crypto';
import type { MailServerInfo, TestUser } from '../../../e2e/mailserver/types';
import type { ServerEndpoint } from '../../../shared/model';
import { connectImap } from './connect-imap';
import type { ImapConnectOptions, ImapSession } from './imap-mailbox';

export const CRLF = '\r\n';

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The main IMAPS listener: a certificate from the test CA, valid for the host. */
export function implicitTls(info: MailServerInfo): ServerEndpoint {
  return { host: info.host, port: info.ports.imaps, security: 'tls' };
}

export function starttls(info: MailServerInfo): ServerEndpoint {
  return { host: info.host, port: info.ports.imap, security: 'starttls' };
}

export function open(
  user: TestUser,
  endpoint: ServerEndpoint,
  options: Partial<Omit<ImapConnectOptions, 'endpoint' | 'username'>> = {},
): Promise<ImapSession> {
  return connectImap({ endpoint, username: user.username, password: user.password, ...options });
}

/** Runs `body` with a session that is closed afterwards, whatever happens. */
export async function withSession<T>(
  user: TestUser,
  endpoint: ServerEndpoint,
  body: (session: ImapSession) => Promise<T>,
  options: Partial<Omit<ImapConnectOptions, 'endpoint' | 'username'>> = {},
): Promise<T> {
  const session = await open(user, endpoint, options);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/** A small RFC 5322 message with a unique Message-ID. */
export function simpleMessage(subject: string, body = 'Hello.', extraHeaders = ''): Buffer {
  const id = `<${createHash('sha1')
    .update(subject + Math.random())
    .digest('hex')}@test.localhost>`;
  return Buffer.from(
    `From: Alice Example <alice@localhost>${CRLF}To: Bob <bob@localhost>${CRLF}Subject: ${subject}${CRLF}` +
      `Date: Tue, 02 Jan 2024 10:00:00 +0000${CRLF}Message-ID: ${id}${CRLF}${extraHeaders}${CRLF}${body}${CRLF}`,
    'latin1',
  );
}

/** Resolves once `condition` holds, polling; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
