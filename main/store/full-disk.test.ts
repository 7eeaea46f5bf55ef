/**
 * The store on a full disk, a real 4 MB file system (tmpfs, mounted here: the tests run as root, as
 * the test mail servers need). Searching and opening the store still work from what is indexed (the
 * search entries of rows still waiting for them are made once there is room); deleting mail to make
 * room works; a folder deletion, flag change or move the index cannot record leaves everything as it
 * was and readable, also after a restart.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from './message-store';
import { buildMessage, openTestStore, testAccount, testEnvelope } from './test-fixtures';

let mountPoint = '';
let mounted = false;

beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'wb-search-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  mounted = true;
});

afterAll(async () => {
  if (mounted) execFileSync('umount', [mountPoint]);
  if (mountPoint) await rm(mountPoint, { recursive: true, force: true });
});

/** Stores opened by a test, closed after it (close() may run twice). */
const opened: MessageStore[] = [];

// A test that fails while the disk is full must not leave it full for the next one.
afterEach(async () => {
  for (const profile of opened.splice(0)) profile.close();
  for (const name of await readdir(mountPoint)) {
    if (name.startsWith('filler')) await rm(join(mountPoint, name), { force: true });
  }
});

/** Writes zeros into `path` until the file system refuses, in large pieces then small ones: the disk is full. */
function fillDisk(path: string): void {
  const descriptor = openSync(path, 'w');
  try {
    for (const size of [64 * 1024, 512]) {
      const piece = Buffer.alloc(size);
      for (let full = false; !full;) {
        try {
          writeSync(descriptor, piece);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          full = true;
        }
      }
    }
  } finally {
    closeSync(descriptor);
  }
}

/** A message of about 300 KB: deleting one frees room on the small file system. */
function largeMessage(subject: string): Buffer {
  return buildMessage({ subject, body: `${'x'.repeat(76)}\r\n`.repeat(4_000) });
}

/** Opens the profile `name` on the small file system (created with an account `name` the first time). */
async function openProfile(
  name: string,
  mode: 'imap' | 'pop3' = 'pop3',
): Promise<{ directory: string; profile: MessageStore; accountId: string }> {
  const directory = join(mountPoint, name);
  const profile = await openTestStore(directory);
  opened.push(profile);
  if (!profile.getAccount(name)) await profile.upsertAccount(testAccount(name, mode));
  return { directory, profile, accountId: name };
}

describe('the store on a full disk', () => {
  it('search answers from what is indexed, and finds the waiting rows once there is space again', async () => {
    const first = await openProfile('search', 'imap');
    let store = first.profile;
    const accountId = first.accountId;
    const inbox = await store.upsertFolder({ accountId, kind: 'server', path: 'INBOX', role: 'inbox' });
    const whole = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'Kumquat harvest', body: 'The kumquat trees are ready.' }),
      imap: { uidvalidity: 1, uid: 1 },
    });
    // Headers listed in a sync of a folder kept offline: their search entry waits for the body.
    const [waiting] = store.insertHeaderOnlyBatch(
      [
        {
          folderId: inbox.id,
          imap: { uidvalidity: 1, uid: 2 },
          envelope: testEnvelope({
            subject: 'Kumquat jam recipe',
            from: { name: 'Cook', address: 'cook@example.org' },
          }),
          size: 2_000,
          flags: [],
        },
      ],
      { deferSearch: true },
    );

    const filler = join(mountPoint, 'filler');
    fillDisk(filler);
    expect(store.search('kumquat').map((summary) => summary.id)).toEqual([whole.record.id]);
    // The store opens on a full disk too (it makes the waiting entries when it opens, if it can).
    store.close();
    ({ profile: store } = await openProfile('search', 'imap'));
    expect(store.search('kumquat').map((summary) => summary.id)).toEqual([whole.record.id]);

    await rm(filler);
    expect(
      store
        .search('kumquat')
        .map((summary) => summary.id)
        .sort(),
    ).toEqual([whole.record.id, waiting.id].sort());
  });

  it('deleting large mail to make room works on a full disk, also POP3 messages whose server copy stays', async () => {
    const { profile, accountId } = await openProfile('delete');
    const inbox = await profile.upsertFolder({ accountId, kind: 'local', path: 'INBOX', role: 'inbox' });
    const results = await profile.insertMessageBatch(
      inbox.id,
      [1, 2, 3].map((index) => ({ source: largeMessage(`Large ${index}`), popUidl: `uidl-${index}`, onServer: true })),
    );
    fillDisk(join(mountPoint, 'filler-delete'));
    // The local copy of one dropped (it stays on the server), the others deleted.
    expect((await profile.evictLocalCopy(results[0].record.id)).residency).toBe('server');
    for (const { record } of results.slice(1)) await profile.deleteMessage(record.id);
    expect(profile.listFolderMessages(inbox.id).map((summary) => summary.id)).toEqual([results[0].record.id]);
    // Still known as downloaded: the next check will not fetch them again.
    const known = profile.popUidlState(accountId).map((state) => state.uidl);
    expect(known.sort()).toEqual(['uidl-1', 'uidl-2', 'uidl-3']);
  });

  it('a folder that cannot be deleted on a full disk stays whole, also after a restart; with room it goes', async () => {
    const first = await openProfile('folder');
    const { accountId } = first;
    let { profile } = first;
    const receipts = await profile.upsertFolder({ accountId, kind: 'local', path: 'Receipts' });
    const sources = [largeMessage('Kept on the server'), largeMessage('Only here')];
    const stored = await profile.insertMessageBatch(receipts.id, [
      { source: sources[0], popUidl: 'uidl-kept', onServer: true },
      { source: sources[1], onServer: false },
    ]);
    const folderPaths = () => profile.listFolderRecords(accountId).map((folder) => folder.path);
    const intact = async (): Promise<void> => {
      expect(folderPaths()).toContain('Receipts');
      for (const [index, { record }] of stored.entries()) {
        expect((await profile.readRaw(record.id)).equals(sources[index])).toBe(true);
      }
    };

    const filler = join(mountPoint, 'filler-folder');
    fillDisk(filler);
    // The index cannot record the deletion: nothing is deleted, and the error says so.
    await expect(profile.deleteFolder(receipts.id)).rejects.toMatchObject({ code: 'DISK_FULL' });
    await intact();
    profile.close();
    ({ profile } = await openProfile('folder'));
    await intact();

    await rm(filler);
    await profile.deleteFolder(receipts.id);
    profile.close();
    ({ profile } = await openProfile('folder'));
    expect(folderPaths()).not.toContain('Receipts');
    expect(profile.popUidlState(accountId).map((state) => state.uidl)).toEqual(['uidl-kept']);
  });

  it('a flag change or a move the index cannot record on a full disk leaves the message where it was, readable', async () => {
    const first = await openProfile('rename');
    const { accountId } = first;
    let { profile } = first;
    const inbox = await profile.upsertFolder({ accountId, kind: 'local', path: 'INBOX', role: 'inbox' });
    const archive = await profile.upsertFolder({ accountId, kind: 'local', path: 'Archive' });
    const source = buildMessage({ subject: 'Unread' });
    const [{ record }] = await profile.insertMessageBatch(inbox.id, [{ source, onServer: false }]);
    fillDisk(join(mountPoint, 'filler-rename'));

    await expect(profile.setFlags(record.id, ['\\Seen'])).rejects.toMatchObject({ code: 'DISK_FULL' });
    await expect(profile.moveMessage(record.id, archive.id)).rejects.toMatchObject({ code: 'DISK_FULL' });
    for (let start = 0; start < 2; start += 1) {
      expect(profile.getMessageRecord(record.id)).toMatchObject({ folderId: inbox.id, flags: [] });
      expect((await profile.readRaw(record.id)).equals(source)).toBe(true);
      profile.close();
      ({ profile } = await openProfile('rename'));
    }
  });

  it('a folder set aside for deletion that the index never recorded as deleted comes back at the next start', async () => {
    const first = await openProfile('set-aside');
    const { directory, accountId } = first;
    let { profile } = first;
    const folder = await profile.upsertFolder({ accountId, kind: 'local', path: 'Archive' });
    const source = buildMessage({ subject: 'Only copy' });
    const [{ record }] = await profile.insertMessageBatch(folder.id, [{ source, onServer: false }]);
    profile.close();
    // The app stopped between deleteFolder's rename and its commit.
    const accountDirectory = join(directory, 'mail', accountId);
    await rename(join(accountDirectory, folder.id), join(accountDirectory, `.trash-${folder.id}`));
    ({ profile } = await openProfile('set-aside'));
    expect((await profile.readRaw(record.id)).equals(source)).toBe(true);
    expect(profile.getMessageRecord(record.id)?.residency).toBe('local');

    // The same, when the folder's directory was made again meanwhile (a write into the folder):
    // the set-aside messages join it.
    const again = buildMessage({ subject: 'Only copy, again' });
    const [{ record: second }] = await profile.insertMessageBatch(folder.id, [{ source: again, onServer: false }]);
    profile.close();
    await rename(join(accountDirectory, folder.id), join(accountDirectory, `.trash-${folder.id}`));
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(accountDirectory, folder.id, sub), { recursive: true });
    ({ profile } = await openProfile('set-aside'));
    expect((await profile.readRaw(record.id)).equals(source)).toBe(true);
    expect((await profile.readRaw(second.id)).equals(again)).toBe(true);
    expect(await readdir(accountDirectory)).not.toContain(`.trash-${folder.id}`);
  });
});
