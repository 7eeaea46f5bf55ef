/**
 * Test users and test mail for the private Dovecot: each test makes its own user (so tests never
 * share a mailbox), and can put byte-exact messages straight into the Maildir and read back exactly
 * what the server holds.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './processes.js';
import { MAIL_DOMAIN } from './server-config.js';
import type { AccountSettings } from '../../shared/model';
import type { MailServerInfo, TestUser } from './types.js';

export interface TestUserOptions {
  /** Storage limit in MiB (RFC 9208 QUOTA STORAGE is reported in KiB); default 1 GiB. */
  quotaMegabytes?: number;
}

/** Maildir info flags (the part after `:2,`), in the order the Maildir specification requires: ASCII. */
export type MaildirFlag = 'D' | 'F' | 'P' | 'R' | 'S' | 'T';

export interface PutMessageOptions {
  /** D draft, F flagged, R answered, S seen, T deleted (Dovecot maps them to IMAP system flags). */
  flags?: readonly MaildirFlag[];
}

let deliveryCounter = 0;

export async function createTestUser(info: MailServerInfo, options: TestUserOptions = {}): Promise<TestUser> {
  // Lower-case letters and digits only: valid in a passwd-file, a Maildir path and an e-mail local part.
  const username = `u${randomBytes(6).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const home = path.join(info.mailHome, username);
  const maildir = path.join(home, 'Maildir');
  const { uid, gid } = info.mailUser;
  for (const directory of [home, maildir, ...['cur', 'new', 'tmp'].map((name) => path.join(maildir, name))]) {
    await mkdir(directory, { mode: 0o700 });
    await chown(directory, uid, gid);
  }
  const extraFields =
    options.quotaMegabytes === undefined ? '' : `userdb_quota_rule=*:storage=${options.quotaMegabytes}M`;
  // passwd-file: user:password:uid:gid:gecos:home:shell:extra fields. Written aside and renamed into
  // place, so Dovecot never reads half a line; it reads a user's file at that user's first login.
  const usersFile = path.join(info.usersDir, username);
  const temporary = `${usersFile}.tmp`;
  await writeFile(temporary, `${username}:{PLAIN}${password}:${uid}:${gid}::${home}::${extraFields}\n`, {
    mode: 0o640,
  });
  await chown(temporary, 0, (await stat(info.usersDir)).gid);
  await rename(temporary, usersFile);
  return { username, password, email: `${username}@${MAIL_DOMAIN}`, maildir };
}

async function doveadm(info: MailServerInfo, args: string[]): Promise<string> {
  return (await runCommand('doveadm', ['-c', info.dovecotConfig, ...args])).stdout;
}

/** The on-disk folder of a mailbox (Maildir++ names such as `.Sent`, modified UTF-7), as Dovecot computes it. */
async function folderPath(info: MailServerInfo, user: TestUser, folder: string): Promise<string> {
  if (folder === 'INBOX') return user.maildir;
  return (await doveadm(info, ['mailbox', 'path', '-u', user.username, folder])).trim();
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await stat(filePath);
    return true;
  } catch {
    return false;
  }
}

/** RFC 5322 size with CRLF line ends: Dovecot's `W=` (virtual size) field. */
function crlfSize(raw: Buffer): number {
  let bareLineFeeds = 0;
  for (let index = 0; index < raw.length; index += 1) {
    if (raw[index] === 0x0a && (index === 0 || raw[index - 1] !== 0x0d)) bareLineFeeds += 1;
  }
  return raw.length + bareLineFeeds;
}

/**
 * Puts `raw` into the user's folder exactly as given, then makes Dovecot index it, so IMAP and POP3
 * serve these bytes. Messages get UIDs in the order of the calls.
 */
export async function putMessage(
  info: MailServerInfo,
  user: TestUser,
  raw: Buffer,
  folder = 'INBOX',
  options: PutMessageOptions = {},
): Promise<void> {
  await putMessages(info, user, [raw], folder, options);
}

/** Like putMessage for many messages at once (one re-index), UIDs in array order. */
export async function putMessages(
  info: MailServerInfo,
  user: TestUser,
  raws: readonly Buffer[],
  folder = 'INBOX',
  options: PutMessageOptions = {},
): Promise<void> {
  const directory = await folderPath(info, user, folder);
  if (!(await exists(path.join(directory, 'cur')))) {
    await doveadm(info, ['mailbox', 'create', '-u', user.username, folder]).catch(async (error: unknown) => {
      // Special-use folders are created on first access; "exists" is fine.
      if (!(await exists(path.join(directory, 'cur')))) throw error;
    });
  }
  const flags = [...new Set(options.flags ?? [])].sort().join('');
  for (const raw of raws) {
    const now = Date.now();
    deliveryCounter += 1;
    // Maildir unique name: seconds, then microseconds, process and a counter, so names sort in call order.
    const unique = [
      `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}`,
      `Q${String(deliveryCounter).padStart(6, '0')}R${randomBytes(4).toString('hex')}`,
    ].join('');
    const name = `${unique}.whereabouts-test,S=${raw.length},W=${crlfSize(raw)}:2,${flags}`;
    // Maildir delivery: write in tmp/, then rename into place, so Dovecot never sees half a file.
    const temporary = path.join(directory, 'tmp', name);
    await writeFile(temporary, raw, { mode: 0o600 });
    await chown(temporary, info.mailUser.uid, info.mailUser.gid);
    await rename(temporary, path.join(directory, 'cur', name));
  }
  await doveadm(info, ['force-resync', '-u', user.username, folder]);
}

/** Maildir file names in the order of their UIDs (dovecot-uidlist), then any not yet indexed. */
async function filesInUidOrder(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const subdirectory of ['cur', 'new']) {
    for (const name of await readdir(path.join(directory, subdirectory)).catch(() => [] as string[])) {
      files.push(path.join(subdirectory, name));
    }
  }
  const baseName = (file: string): string => path.basename(file).split(':')[0];
  const uidByBase = new Map<string, number>();
  const uidList = await readFile(path.join(directory, 'dovecot-uidlist'), 'utf8').catch(() => '');
  for (const line of uidList.split('\n').slice(1)) {
    // "UID [extension fields] :base-name" (Dovecot's uidlist version 3 format).
    const match = /^(\d+)\b.*?:(.+)$/.exec(line);
    if (match) uidByBase.set(match[2].split(':')[0], Number(match[1]));
  }
  const order = (file: string): number => uidByBase.get(baseName(file)) ?? Number.MAX_SAFE_INTEGER;
  return files.sort((left, right) => order(left) - order(right) || left.localeCompare(right));
}

/** The raw bytes of every message in the user's folder on the server: ground truth for byte-exact tests. */
export async function readServerMessages(info: MailServerInfo, user: TestUser, folder = 'INBOX'): Promise<Buffer[]> {
  const directory = await folderPath(info, user, folder);
  const files = await filesInUidOrder(directory);
  return Promise.all(files.map((file) => readFile(path.join(directory, file))));
}

/**
 * Settings of an account for a test user on these servers: implicit TLS for IMAP and POP3,
 * STARTTLS submission, INBOX kept offline, a copy left on the server forever unless `extra` says.
 */
export function accountSettingsFor(
  info: MailServerInfo,
  user: TestUser,
  mode: 'imap' | 'pop3',
  extra: Partial<AccountSettings> = {},
): AccountSettings {
  return {
    name: user.username,
    email: user.email,
    mode,
    username: user.username,
    imap: { host: info.host, port: info.ports.imaps, security: 'tls' },
    pop3: { host: info.host, port: info.ports.pop3s, security: 'tls' },
    smtp: { host: info.host, port: info.ports.submission, security: 'starttls' },
    leaveOnServer: { kind: 'forever' },
    offlineFolders: ['INBOX'],
    checkIntervalMinutes: 10,
    ...extra,
  };
}
