/**
 * The peers, public tools from Debian, configured to do the same job as our contender over the same
 * implicit-TLS ports (RFC 8314), verifying the server against the test CA:
 * - mbsync (isync) pulls the IMAP INBOX into a Maildir, with its default per-message fsync;
 * - fetchmail downloads the POP3 maildrop, keeping the mail on the server, into a BSMTP file.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MailServerInfo, TestUser } from '../e2e/mailserver/types';
import { runQuietly, timeProcess, type ProcessRun } from './processes';

export const MBSYNC = '/usr/bin/mbsync';
export const FETCHMAIL = '/usr/bin/fetchmail';
export const PEER_PACKAGES = [
  { program: MBSYNC, debianPackage: 'isync' },
  { program: FETCHMAIL, debianPackage: 'fetchmail' },
  { program: '/usr/bin/time', debianPackage: 'time' },
] as const;

/** One mbsync set-up: a config file and the local Maildir it fills (with its sync state inside). */
export interface MbsyncTarget {
  configFile: string;
  maildir: string;
}

/** Writes an mbsync config that pulls INBOX of `user` into `directory`/Maildir. */
export async function prepareMbsync(info: MailServerInfo, user: TestUser, directory: string): Promise<MbsyncTarget> {
  await mkdir(directory, { recursive: true });
  const maildir = path.join(directory, 'Maildir');
  const configFile = path.join(directory, 'mbsyncrc');
  const certificateFile = path.join(directory, 'trusted.pem');
  const serverCertificate = path.join(path.dirname(info.caPath), 'main.pem');
  await writeFile(
    certificateFile,
    `${await readFile(info.caPath, 'utf8')}\n${await readFile(serverCertificate, 'utf8')}`,
  );
  const config = [
    'IMAPAccount bench',
    `Host ${info.host}`,
    `Port ${info.ports.imaps}`,
    `User ${user.username}`,
    `Pass ${user.password}`,
    // Implicit TLS (RFC 8314). mbsync 1.4 matches host names only against DNS names, never against
    // IP-address subjectAltNames, so it is given the server's certificate itself (pinned: accepted
    // only on an exact match) next to the test CA.
    'SSLType IMAPS',
    `CertificateFile ${certificateFile}`,
    '',
    'IMAPStore remote',
    'Account bench',
    '',
    'MaildirStore local',
    `Path ${maildir}/`,
    `Inbox ${maildir}/INBOX`,
    '',
    'Channel bench',
    'Far :remote:',
    'Near :local:',
    'Patterns INBOX',
    'Create Near',
    // The sync state lives inside the Maildir folder, so deleting the folder starts afresh.
    'SyncState *',
    '',
  ].join('\n');
  await writeFile(configFile, config, { mode: 0o600 });
  return { configFile, maildir };
}

export async function runMbsync(target: MbsyncTarget): Promise<ProcessRun> {
  // mbsync creates the folder (Create Near) but not the store's root.
  await mkdir(target.maildir, { recursive: true });
  return await timeProcess(MBSYNC, ['-q', '-c', target.configFile, 'bench']);
}

export interface FetchmailTarget {
  home: string;
  configFile: string;
  /** Where fetchmail delivers: one BSMTP file (no MTA, no process per message). */
  output: string;
}

export async function prepareFetchmail(
  info: MailServerInfo,
  user: TestUser,
  directory: string,
): Promise<FetchmailTarget> {
  await mkdir(directory, { recursive: true });
  const configFile = path.join(directory, 'fetchmailrc');
  const config = [
    'set no syslog',
    `poll ${info.host} with proto POP3 port ${info.ports.pop3s}`,
    `  user "${user.username}" there with password "${user.password}" is root here`,
    // Implicit TLS (RFC 8314), the certificate checked against the test CA. fetchmail matches only
    // DNS names, not IP-address subjectAltNames: it is told the name the certificate carries.
    `  ssl sslcertck sslcertfile "${info.caPath}" sslcommonname localhost`,
    // Leave a copy on the server, and fetch every message each time (no UIDL memory between runs).
    '  keep fetchall',
    '',
  ].join('\n');
  await writeFile(configFile, config, { mode: 0o600 });
  // fetchmail refuses a control file that others can read.
  await chmod(configFile, 0o600);
  return { home: directory, configFile, output: path.join(directory, 'mail.bsmtp') };
}

export function runFetchmail(target: FetchmailTarget): Promise<ProcessRun> {
  return timeProcess(
    FETCHMAIL,
    [
      '--silent',
      '--nodetach',
      '-f',
      target.configFile,
      '--bsmtp',
      target.output,
      '--idfile',
      path.join(target.home, 'ids'),
    ],
    // 1 means "no mail": not an error for a timing, though it would be for this mailbox (checked by the caller).
    { env: { ...process.env, FETCHMAILHOME: target.home }, okExitCodes: [0, 1] },
  );
}

/** The peers' versions, for the report. */
export async function peerVersions(): Promise<Record<string, string>> {
  const first = (text: string): string =>
    text
      .split('\n')
      .find((line) => line.trim().length > 0)
      ?.trim() ?? '?';
  const versions: Record<string, string> = {};
  versions.mbsync = first(await runQuietly(MBSYNC, ['--version']).catch(() => 'not installed'));
  const fetchmail = await runQuietly(FETCHMAIL, ['--version'], { okExitCodes: [0, 1] }).catch(() => 'not installed');
  versions.fetchmail = /This is fetchmail release ([^+\s]+)/.exec(fetchmail)?.[1] ?? first(fetchmail);
  versions.dovecot = first(await runQuietly('dovecot', ['--version']).catch(() => '?'));
  versions.node = process.version;
  versions.chromium = first(await runQuietly('/usr/bin/chromium', ['--version']).catch(() => 'not installed'));
  return versions;
}
