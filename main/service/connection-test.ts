/**
 * The account set-up's connection test: log in to the incoming server of the chosen mode and to
 * the SMTP server, then leave without changing anything. Errors come back as the typed payloads
 * the UI turns into words (and a certificate fingerprint the user may choose to trust).
 */
import type { ConnectionTestResult } from '../../shared/api';
import { toErrorPayload } from '../../shared/errors';
import type { AccountSettings } from '../../shared/model';
import { MailError } from '../../shared/errors';
import type { Credentials } from '../oauth/credentials';
import { connectImap } from '../protocols/imap/connect-imap';
import { openPop3Mailbox } from '../protocols/pop3/pop3-mailbox';
import { verifySmtp } from '../protocols/smtp/smtp-client';

/** A set-up screen waits this long for each server before saying it does not answer. */
const CONNECTION_TEST_TIMEOUT_MS = 15_000;

/** A bare string is a password; OAuth accounts pass the access token of their sign-in. */
function credentialsOf(secret: string | Credentials): Credentials {
  return typeof secret === 'string' ? { password: secret } : secret;
}

export async function testIncoming(settings: AccountSettings, secret: string | Credentials): Promise<void> {
  const credentials = credentialsOf(secret);
  if (settings.mode === 'imap') {
    if (!settings.imap) throw new MailError('INVALID_INPUT', 'The IMAP server settings are missing.');
    const session = await connectImap({
      endpoint: settings.imap,
      username: settings.username,
      ...credentials,
      timeouts: { connectMs: CONNECTION_TEST_TIMEOUT_MS, greetingMs: CONNECTION_TEST_TIMEOUT_MS },
    });
    await session.close();
    return;
  }
  if (!settings.pop3) throw new MailError('INVALID_INPUT', 'The POP3 server settings are missing.');
  const mailbox = await openPop3Mailbox({
    ...settings.pop3,
    username: settings.username,
    ...credentials,
    timeouts: { connectMs: CONNECTION_TEST_TIMEOUT_MS, greetingMs: CONNECTION_TEST_TIMEOUT_MS },
  });
  // RSET before QUIT: a connection test must never apply a deletion (RFC 1939 §6).
  await mailbox.reset();
  await mailbox.quit();
}

export async function testConnection(
  settings: AccountSettings,
  secret: string | Credentials,
): Promise<ConnectionTestResult> {
  const credentials = credentialsOf(secret);
  const [incoming, smtp] = await Promise.all([
    testIncoming(settings, credentials).then(
      () => ({ ok: true }) as const,
      (error: unknown) => ({ ok: false, error: toErrorPayload(error) }) as const,
    ),
    settings.smtp
      ? verifySmtp(settings.smtp, { username: settings.username, ...credentials }).then(
          () => ({ ok: true }) as const,
          (error: unknown) => ({ ok: false, error: toErrorPayload(error) }) as const,
        )
      : Promise.resolve(null),
  ]);
  return { incoming, smtp };
}
