/**
 * The disk fills up during a download (SEMANTICS: "full disk … a clear, specific message, and the
 * local store stays consistent"). The profile is a real 8 MB file system (tmpfs, mounted here:
 * the tests run as root, as the test mail servers need), the server holds about 15 MB for a POP3
 * account (leave-a-copy off, so every stored message would be deleted on the server) and as much
 * for an IMAP account that keeps INBOX for offline reading. Both downloads must fail with
 * DISK_FULL in words a person understands; no message may be gone from the server without being
 * durably here (compared by SHA-256); the index must be intact (PRAGMA integrity_check) and
 * reopen without repairs. Once the file system is grown, the next pass must complete and converge:
 * every message exactly once, byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { MailError } from '../../shared/errors';
import type { AccountSettings } from '../../shared/model';
import { createMailService, type MailService } from '../service/create-service';
import { INDEX_FILE, openMessageStore } from '../store/message-store';
import { STREAMED_MESSAGE_MIN_BYTES } from '../sync/pop3/streamed-retrieve';

const info = inject('mailServer');
const KILOBYTE = 1024;
const MEGABYTE = 1024 * KILOBYTE;
const SMALL_FILESYSTEM = '8m';
const GROWN_FILESYSTEM = '64m';

let mountPoint = '';
let mounted = false;
const profileDir = (): string => join(mountPoint, 'profile');

beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'wb-disk-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SMALL_FILESYSTEM}`, 'tmpfs', mountPoint]);
  mounted = true;
});

afterAll(async () => {
  if (mounted) execFileSync('umount', [mountPoint]);
  if (mountPoint) await rm(mountPoint, { recursive: true, force: true });
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A message of about `bytes` octets: text lines of random hex (incompressible, plain 7-bit). */
function message(subject: string, bytes: number): Buffer {
  const header =
    `From: Filler <filler@mail.example>\r\nTo: someone@mail.example\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${randomBytes(8).toString('hex')}@mail.example>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n`;
  const lines: string[] = [];
  for (let size = header.length; size < bytes; size += 78) lines.push(randomBytes(38).toString('hex'));
  return Buffer.from(`${header}${lines.join('\r\n')}\r\n`);
}

/** Twelve small messages and one streamed (above STREAMED_MESSAGE_MIN_BYTES): about 15 MB. */
function mailbox(label: string): Buffer[] {
  const messages = Array.from({ length: 12 }, (_, index) => message(`${label} small ${index + 1}`, 500 * KILOBYTE));
  messages.splice(4, 0, message(`${label} large`, STREAMED_MESSAGE_MIN_BYTES + MEGABYTE));
  return messages;
}

function settingsFor(user: TestUser, mode: 'imap' | 'pop3'): AccountSettings {
  return {
    name: `${mode} disk full`,
    email: user.email,
    mode,
    username: user.username,
    imap: { host: info.host, port: info.ports.imaps, security: 'tls' },
    pop3: { host: info.host, port: info.ports.pop3s, security: 'tls' },
    smtp: null,
    leaveOnServer: { kind: 'off' },
    offlineFolders: ['INBOX'],
    checkIntervalMinutes: 10,
  };
}

/** SHA-256 of every stored message of an account, by reading the files the index points at. */
async function storedHashes(service: MailService, accountId: string): Promise<string[]> {
  const { store } = service.internals;
  const hashes: string[] = [];
  for (const folder of store.listFolderRecords(accountId)) {
    for (const record of store.listFolderMessages(folder.id)) {
      if (record.localPath !== null) hashes.push(sha256(await store.readRaw(record.id)));
    }
  }
  return hashes.sort();
}

async function failure(work: Promise<unknown>): Promise<MailError> {
  const error = await work.then(
    () => new Error('the download succeeded on a full disk'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MailError);
  return error as MailError;
}

function checkIndexIntegrity(): void {
  const database = new Database(join(profileDir(), INDEX_FILE), { readonly: true });
  try {
    expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    database.close();
  }
}

describe('a disk that fills up during a download', () => {
  it('fails with DISK_FULL, loses nothing, keeps the index intact, and resumes once space is freed', async () => {
    const popUser = await createTestUser(info);
    const imapUser = await createTestUser(info);
    const popMail = mailbox('pop');
    const imapMail = mailbox('imap');
    await putMessages(info, popUser, popMail);
    await putMessages(info, imapUser, imapMail);
    const popHashes = popMail.map(sha256).sort();
    const imapHashes = imapMail.map(sha256).sort();
    const total = popMail.reduce((sum, bytes) => sum + bytes.length, 0);
    expect(total).toBeGreaterThan(14 * MEGABYTE);

    let service = await createMailService({ profileDir: profileDir(), shell: 'cli' });
    const ids = { pop: '', imap: '' };
    try {
      ids.pop = (
        await service.api.addAccount({ settings: settingsFor(popUser, 'pop3'), password: popUser.password })
      ).id;

      const popError = await failure(service.api.syncAccount({ accountId: ids.pop }));
      expect(popError.code).toBe('DISK_FULL');
      expect(popError.message).toMatch(/disk is full/i);
      process.stdout.write(`disk full, POP3: ${popError.message}\n`);
      // No message is gone from the server unless it is durably here; in fact the pass never
      // reached QUIT, so the server deleted nothing (RFC 1939 section 6).
      const popLocal = await storedHashes(service, ids.pop);
      const popServer = (await readServerMessages(info, popUser)).map(sha256).sort();
      expect(popLocal.length).toBeGreaterThan(0);
      expect(popLocal.length).toBeLessThan(popMail.length);
      expect(popServer).toEqual(popHashes);
      for (const hash of popLocal) expect(popHashes).toContain(hash);

      // Added only now: adding an account starts its first sync in the background, which would
      // race the POP3 pass above for the little disk there is.
      ids.imap = (
        await service.api.addAccount({ settings: settingsFor(imapUser, 'imap'), password: imapUser.password })
      ).id;
      const imapError = await failure(service.api.syncAccount({ accountId: ids.imap }));
      expect(`${imapError.code}: ${imapError.message}`).toMatch(/^DISK_FULL: /);
      expect(imapError.message).toMatch(/disk is full/i);
      process.stdout.write(`disk full, IMAP: ${imapError.message}\n`);
      const imapLocal = await storedHashes(service, ids.imap);
      expect(imapLocal.length).toBeLessThan(imapMail.length);
      for (const hash of imapLocal) expect(imapHashes).toContain(hash);
      expect((await readServerMessages(info, imapUser)).map(sha256).sort()).toEqual(imapHashes);
      // The account shows the error, in words.
      const views = await service.api.listAccounts();
      expect(views.find((view) => view.id === ids.pop)?.lastError?.code).toBe('DISK_FULL');
    } finally {
      await service.close();
    }

    // Nothing half-written: the index is intact and reopens without anything to repair, and no
    // partial file is left in any tmp/ folder.
    checkIndexIntegrity();
    const reopened = await openMessageStore({ profileDir: profileDir() });
    try {
      expect(reopened.lastReconcile).toMatchObject({
        sweptTmpFiles: 0,
        indexedFiles: 0,
        relinkedRows: 0,
        headerOnlyRows: 0,
        removedRows: 0,
      });
    } finally {
      reopened.close();
    }
    const mailRoot = join(profileDir(), 'mail');
    for (const account of await readdir(mailRoot)) {
      for (const folder of await readdir(join(mailRoot, account))) {
        const tmp = await readdir(join(mailRoot, account, folder, 'tmp')).catch(() => []);
        expect(tmp, `tmp/ of ${account}/${folder}`).toEqual([]);
      }
    }

    // Space is freed: the next passes complete and converge, nothing lost or doubled.
    execFileSync('mount', ['-o', `remount,size=${GROWN_FILESYSTEM}`, mountPoint]);
    service = await createMailService({ profileDir: profileDir(), shell: 'cli' });
    try {
      await service.api.syncAccount({ accountId: ids.pop });
      expect(await storedHashes(service, ids.pop)).toEqual(popHashes);
      // Policy off: everything stored here is now deleted on the server.
      expect(await readServerMessages(info, popUser)).toEqual([]);
      await service.api.syncAccount({ accountId: ids.imap });
      expect(await storedHashes(service, ids.imap)).toEqual(imapHashes);
      const inbox = (await service.api.listFolders({ accountId: ids.imap })).find((folder) => folder.role === 'inbox');
      const page = await service.api.listMessages({ folderId: inbox!.id, offset: 0, limit: 100 });
      expect(page.total).toBe(imapMail.length);
      expect(page.items.every((item) => item.residency === 'both')).toBe(true);
      const views = await service.api.listAccounts();
      expect(views.find((view) => view.id === ids.pop)?.lastError).toBeNull();
    } finally {
      await service.close();
    }
    checkIndexIntegrity();
  });
});
