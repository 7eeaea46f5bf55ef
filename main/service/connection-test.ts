/**
 * The account set-up's connection test: log in to the incoming server of the chosen mode and to
 * the SMTP server, then leave without changing anything. Errors come back as the typed payloads
 * the UI turns into words (and a certificate fingerprint the user may choose to trust).
 */
import type { ConnectionTestResult } from '../../shared/api';
import { toErrorPayload } from '../../shared/errors';
import type { AccountSettings } from '../../shared/model';
import { MailError } from '../../shared/errors';
import { connectImap } from '../protocols/imap/connect-imap';
import { openPop3Mailbox } from '../protocols/pop3/pop3-mailbox';
import { verifySmtp } from '../protocols/smtp/smtp-client';

/** A set-up screen waits this long for each server before saying it does not answer. */
const CONNECTION_TEST_TIMEOUT_MS = 15_000;

export async function testIncoming(settings: AccountSettings, password: string): Promise<void> {
  if (settings.mode === 'imap') {
    if (!settings.imap) throw new MailError('INVALID_INPUT', 'The IMAP server settings are missing.');
    const session = await connectImap({
      endpoint: settings.imap,
      username: settings.username,
      password,
      timeouts: { connectMs: CONNECTION_TEST_TIMEOUT_MS, greetingMs: CONNECTION_TEST_TIMEOUT_MS },
    });
    await session.close();
    return;
  }
  if (!settings.pop3) throw new MailError('INVALID_INPUT', 'The POP3 server settings are missing.');
  const mailbox = await openPop3Mailbox({
    ...settings.pop3,
    username: settings.username,
    password,
    timeouts: { connectMs: CONNECTION_TEST_TIMEOUT_MS, greetingMs: CONNECTION_TEST_TIMEOUT_MS },
  });
  // RSET before QUIT: a connection test must never apply a deletion (RFC 1939 §6).
  await mailbox.reset();
  await mailbox.quit();
}

export async function testConnection(settings: AccountSettings, password: string): Promise<ConnectionTestResult> {
  const [incoming, smtp] = await Promise.all([
    testIncoming(settings, password).then(
      () => ({ ok: true }) as const,
      (error: unknown) => ({ ok: false, error: toErrorPayload(error) }) as const,
    ),
    settings.smtp
      ? verifySmtp(settings.smtp, { username: settings.username, password }).then(
          () => ({ ok: true }) as const,
          (error: unknown) => ({ ok: false, error: toErrorPayload(error) }) as const,
        )
      : Promise.resolve(null),
  ]);
  return { incoming, smtp };
}
