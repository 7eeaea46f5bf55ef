/**
 * The benchmark's mailboxes on the private test Dovecot: the corpus is written straight into a fresh
 * user's Maildir (as a delivery agent would: tmp/, then rename into cur/, owned by the mail user, the
 * file's mtime being the message's arrival time), then Dovecot indexes it before anything is timed.
 */
import { chown, link, mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestUser } from '../e2e/mailserver/test-users';
import type { MailServerInfo, TestUser } from '../e2e/mailserver/types';
import { generateCorpus } from './corpus';
import { runQuietly } from './processes';

/** Files written at once: enough to keep the disk busy, few enough not to hold much memory. */
const WRITE_CONCURRENCY = 32;

export interface CorpusMailbox {
  user: TestUser;
  messages: number;
  bytes: number;
  /** Maildir file names in cur/, in UID order. */
  fileNames: string[];
}

function doveadm(info: MailServerInfo, args: readonly string[]): Promise<string> {
  return runQuietly('doveadm', ['-c', info.dovecotConfig, ...args]);
}

/**
 * Makes Dovecot take in what was written behind its back: a resync assigns UIDs (in file-name order,
 * which is arrival order here), and `index` fills its index and cache, so the first timed run does
 * not pay for indexing.
 */
export async function indexMailbox(info: MailServerInfo, user: TestUser): Promise<void> {
  await doveadm(info, ['force-resync', '-u', user.username, 'INBOX']);
  await doveadm(info, ['index', '-u', user.username, 'INBOX']);
}

/** A fresh user whose INBOX holds messages 0 … count-1 of the corpus. */
export async function createCorpusMailbox(
  info: MailServerInfo,
  options: { seed: number; count: number; onProgress?: (done: number) => void },
): Promise<CorpusMailbox> {
  const user = await createTestUser(info, { quotaMegabytes: 64 * 1024 });
  const fileNames: string[] = [];
  let bytes = 0;
  let pending: Array<Promise<void>> = [];
  const { uid, gid } = info.mailUser;
  for (const { plan, raw } of generateCorpus({ seed: options.seed, count: options.count })) {
    const seconds = Math.floor(plan.date / 1000);
    // Maildir unique name: time first, so Dovecot's sort (by the time, then the rest) is arrival order.
    const name = `${seconds}.M${String(plan.index).padStart(7, '0')}P1.bench,S=${raw.length},W=${raw.length}:2,${plan.flags.join('')}`;
    fileNames.push(name);
    bytes += raw.length;
    pending.push(
      (async () => {
        const temporary = path.join(user.maildir, 'tmp', name);
        await writeFile(temporary, raw, { mode: 0o600 });
        await chown(temporary, uid, gid);
        const arrival = new Date(plan.date);
        await utimes(temporary, arrival, arrival);
        await rename(temporary, path.join(user.maildir, 'cur', name));
      })(),
    );
    if (pending.length >= WRITE_CONCURRENCY) {
      await Promise.all(pending);
      pending = [];
      options.onProgress?.(fileNames.length);
    }
  }
  await Promise.all(pending);
  await indexMailbox(info, user);
  return { user, messages: fileNames.length, bytes, fileNames };
}

/**
 * Another fresh user holding the same files (hard links: no second copy of 200 MB), so a figure that
 * changes its mailbox (POP3 marks everything \Seen at QUIT) leaves the other figures' mailbox alone.
 */
export async function cloneMailbox(info: MailServerInfo, source: CorpusMailbox): Promise<CorpusMailbox> {
  const user = await createTestUser(info, { quotaMegabytes: 64 * 1024 });
  await mkdir(path.join(user.maildir, 'cur'), { recursive: true });
  let pending: Array<Promise<void>> = [];
  for (const name of source.fileNames) {
    pending.push(link(path.join(source.user.maildir, 'cur', name), path.join(user.maildir, 'cur', name)));
    if (pending.length >= WRITE_CONCURRENCY * 8) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await indexMailbox(info, user);
  return { ...source, user };
}
