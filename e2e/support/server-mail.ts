/**
 * What the test Dovecot holds, read straight from its side (doveadm and the Maildir files), so a
 * journey can check that the server ended up as the user left it, independently of the client.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from '../mailserver/processes';
import type { MailServerInfo, TestUser } from '../mailserver/types';

export interface ServerMessage {
  subject: string;
  /** Maildir info flags (S seen, F flagged, R answered, T deleted), from the file name. */
  flags: string;
}

async function doveadm(info: MailServerInfo, args: string[]): Promise<string> {
  return (await runCommand('doveadm', ['-c', info.dovecotConfig, ...args])).stdout;
}

/** Every mailbox the user has on the server. */
export async function serverFolders(info: MailServerInfo, user: TestUser): Promise<string[]> {
  return (await doveadm(info, ['mailbox', 'list', '-u', user.username]))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function subjectOf(raw: string): string {
  const headers = raw.split(/\r?\n\r?\n/)[0];
  const match = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers);
  return match ? match[1].replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

/** The messages in one of the user's server folders, with their flags; [] when the folder does not exist. */
export async function serverMessages(info: MailServerInfo, user: TestUser, folder = 'INBOX'): Promise<ServerMessage[]> {
  if (folder !== 'INBOX' && !(await serverFolders(info, user)).includes(folder)) return [];
  const directory =
    folder === 'INBOX' ? user.maildir : (await doveadm(info, ['mailbox', 'path', '-u', user.username, folder])).trim();
  const messages: ServerMessage[] = [];
  for (const subdirectory of ['cur', 'new']) {
    const names = await readdir(path.join(directory, subdirectory)).catch(() => [] as string[]);
    for (const name of names) {
      const raw = await readFile(path.join(directory, subdirectory, name), 'latin1').catch(() => null);
      // A file renamed by a flag change between the listing and the read is read again next poll.
      if (raw === null) continue;
      messages.push({ subject: subjectOf(raw), flags: name.includes(':2,') ? name.split(':2,')[1] : '' });
    }
  }
  return messages.sort((left, right) => left.subject.localeCompare(right.subject));
}

/** Subjects of the messages in a server folder, leaving out those marked \\Deleted but not expunged yet. */
export async function serverSubjects(info: MailServerInfo, user: TestUser, folder = 'INBOX'): Promise<string[]> {
  return (await serverMessages(info, user, folder))
    .filter((message) => !message.flags.includes('T'))
    .map((message) => message.subject);
}

/** A text/plain message as a server would store it (CRLF lines), for putMessages. */
export function plainTextMessage(headers: {
  from: string;
  to: string;
  subject: string;
  date: string;
  messageId: string;
  body: string;
}): Buffer {
  return Buffer.from(
    `From: ${headers.from}\r\nTo: ${headers.to}\r\nSubject: ${headers.subject}\r\nDate: ${headers.date}\r\n` +
      `Message-ID: <${headers.messageId}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${headers.body}\r\n`,
  );
}
